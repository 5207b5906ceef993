"""S3's limits and the "too large" rule: one file of numbers (s3_limits.json) and the same
sentence from the server, the publisher's client and the browser (limits.js)."""
from __future__ import annotations

import pytest

from ckanext.s3multipart import limits, parts

from ..devsupport import in_node

MiB, GiB, TiB = 1024**2, 1024**3, 1024**4


def test_the_limits_are_s3s():
    assert (limits.MIN_PART_SIZE, limits.MAX_PART_SIZE, limits.MAX_PARTS) == \
        (5 * MiB, 5 * GiB, 10_000)
    assert (limits.MAX_OBJECT_SIZE, limits.MAX_POST_SIZE, limits.MAX_KEY_BYTES) == \
        (5 * TiB, 5 * GiB, 1024)


def test_the_browser_reads_the_same_limits():
    names = ["MIN_PART_SIZE", "MAX_PART_SIZE", "MAX_PARTS", "MAX_OBJECT_SIZE"]
    assert in_node("limits.js", "return input.map((name) => m[name])", names) == \
        [getattr(limits, name) for name in names]


def test_planning_follows_the_limits():
    assert parts.plan(limits.MAX_OBJECT_SIZE, limits.MIN_PART_SIZE)[1] <= limits.MAX_PARTS
    assert parts.plan(1, 1)[0] == limits.MIN_PART_SIZE


@pytest.mark.parametrize("size, limit", [(0, 0), (5, 5), (10 * MiB, 10 * MiB), (4, 5)])
def test_a_file_up_to_the_limit_is_not_too_large(size, limit):
    assert limits.too_large(size, limit) is None


@pytest.mark.parametrize("size, limit, said", [
    (5, 4, "f.csv is 5 bytes; the largest file this site accepts is 4 bytes"),
    (10 * MiB + 1, 10 * MiB, "f.csv is 10.0 MiB (10,485,761 bytes); the largest file this "
     "site accepts is 10.0 MiB (10,485,760 bytes)"),
    (3 * TiB, 1023, "f.csv is 3.0 TiB (3,298,534,883,328 bytes); the largest file this site "
     "accepts is 1,023 bytes"),
])
def test_the_browser_says_what_the_server_says(size, limit, said):
    assert limits.too_large(size, limit, "f.csv") == said
    assert in_node("limits.js", "return m.tooLarge({ name: 'f.csv', size: input[0] }, input[1])",
                   [size, limit]) == said


def test_the_browser_has_no_limit_when_the_site_gives_none():
    assert in_node("limits.js", "return m.tooLarge({ name: 'f', size: input }, 0)", 5) is None
