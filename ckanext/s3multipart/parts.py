"""Part planning for multipart uploads, shared by the server, the CLI and (mirrored
in assets/src/plan.js) the browser."""
from __future__ import annotations

import math

from s3transfer.utils import ChunksizeAdjuster

from . import config


def plan(size: int, part_size: int | None = None) -> tuple[int, int]:
    """(part size, part count) for a file of `size` bytes.

    Starts from the configured part size and doubles it (s3transfer's rule) until the
    file needs at most 10,000 parts. An empty file is one empty part.
    """
    adjusted = ChunksizeAdjuster().adjust_chunksize(part_size or config.part_size(), size)
    return adjusted, max(1, math.ceil(size / adjusted))
