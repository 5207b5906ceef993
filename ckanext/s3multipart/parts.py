"""Part planning for multipart uploads, shared by the server, the operator CLI, the
publisher's client and (mirrored in assets/src/plan.js) the browser.

Imports nothing from CKAN: the publisher's client uses it without a CKAN install.
"""
from __future__ import annotations

import math

from s3transfer.utils import ChunksizeAdjuster

from .limits import MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE

# s3transfer's rule with S3's limits as this project states them (limits.py).
_ADJUSTER = ChunksizeAdjuster(max_size=MAX_PART_SIZE, min_size=MIN_PART_SIZE,
                              max_parts=MAX_PARTS)


def plan(size: int, part_size: int | None = None) -> tuple[int, int]:
    """(part size, part count) for a file of `size` bytes.

    Starts from `part_size` and doubles it (s3transfer's rule) until the file needs at
    most 10,000 parts. An empty file is one empty part. Without `part_size`, the site's
    configured one is used (server side only: that reads CKAN's config).
    """
    if part_size is None:
        from . import config  # CKAN's config; the client always passes part_size

        part_size = config.part_size()
    adjusted = _ADJUSTER.adjust_chunksize(part_size, size)
    return adjusted, part_count(size, adjusted)


def part_count(size: int, part_size: int) -> int:
    """Parts of `part_size` bytes a file of `size` bytes takes (an empty file: one)."""
    return max(1, math.ceil(size / part_size))


def part_range(size: int, part_size: int, number: int) -> tuple[int, int]:
    """Byte range [start, end) of part `number` (1-based) of a file of `size` bytes."""
    start = (number - 1) * part_size
    return start, min(size, start + part_size)
