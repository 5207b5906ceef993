"""Part planning: at least 5 MiB, at most 10,000 parts, up to S3's 5 TiB."""
from __future__ import annotations

import random

import pytest

from ckanext.s3multipart import parts

from ..devsupport import in_node

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


def test_the_browser_plans_every_size_as_the_server_does():
    """plan.js (the bundle's planning) and parts.py agree on part size, count and the
    last part's range, at the edges of S3's limits and in between."""
    edges = [0, 1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 10_000 * 5 * MiB, 10_000 * 5 * MiB + 1,
             50 * GiB, 1024 * GiB - 1, 1024 * GiB, 5 * TiB - 1, 5 * TiB]
    rng = random.Random(20261202)
    sizes = edges + [rng.randrange(0, 5 * TiB) for _ in range(200)]
    cases = [(size, part) for size in sizes for part in (5 * MiB, 8 * MiB, 100 * MiB)]
    browser = in_node("plan.js", "return input.map(([s, p]) => {"
                      " const plan = m.planParts(s, p), n = plan.partCount;"
                      " return [plan.partSize, n, m.partRange(plan, s, n)] })", cases)
    for (size, part), (js_size, js_count, js_last) in zip(cases, browser, strict=True):
        part_size, count = parts.plan(size, part)
        start, end = parts.part_range(size, part_size, count)
        assert (js_size, js_count, js_last) == \
            (part_size, count, {"start": start, "end": end}), (size, part)
