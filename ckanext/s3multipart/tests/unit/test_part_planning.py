"""Part planning: at least 5 MiB, at most 10,000 parts, up to S3's 5 TiB."""
from __future__ import annotations

import pytest

from ckanext.s3multipart import parts

MiB, GiB, TiB = 1024**2, 1024**3, 1024**4


@pytest.mark.parametrize("size, part_size, count", [
    (0, 5 * MiB, 1),
    (1, 5 * MiB, 1),
    (5 * MiB, 5 * MiB, 1),
    (5 * MiB + 1, 5 * MiB, 2),
    (1 * GiB, 5 * MiB, 205),
    (10_000 * 5 * MiB, 5 * MiB, 10_000),
    (10_000 * 5 * MiB + 1, 10 * MiB, 5001),
    (50 * GiB, 10 * MiB, 5120),
    (1 * TiB, 160 * MiB, 6554),
    (5 * TiB, 640 * MiB, 8192),
])
def test_plan(size, part_size, count):
    assert parts.plan(size) == (part_size, count)


def test_plan_never_exceeds_10000_parts_nor_goes_below_5_mib():
    for size in range(0, 5 * TiB, 97 * GiB + 12345):
        part_size, count = parts.plan(size)
        assert count <= 10_000 and part_size >= 5 * MiB
        assert (count - 1) * part_size < max(size, 1) <= count * part_size or size == 0


@pytest.mark.ckan_config("ckanext.s3multipart.part_size", "8388608")
def test_plan_starts_from_the_configured_part_size():
    assert parts.plan(100 * MiB) == (8 * MiB, 13)
