"""S3's numeric limits and the one "is this file too large" rule.

The numbers are in s3_limits.json, which the browser bundle imports as well
(assets/src/limits.js), so the configuration's validators, part planning on the server,
in the publisher's client and in the browser all use the same ones. No CKAN import: the
publisher's client uses this module without CKAN.
"""
from __future__ import annotations

import json
import pathlib

from .sizes import exact

_LIMITS = json.loads(pathlib.Path(__file__).with_name("s3_limits.json").read_text())

MIN_PART_SIZE: int = _LIMITS["min_part_size"]  # every part but the last
MAX_PART_SIZE: int = _LIMITS["max_part_size"]
MAX_PARTS: int = _LIMITS["max_parts"]
MAX_OBJECT_SIZE: int = _LIMITS["max_object_size"]
MAX_POST_SIZE: int = _LIMITS["max_post_size"]  # a single PUT or POST
MAX_KEY_BYTES: int = _LIMITS["max_key_bytes"]


def too_large(size: int, limit: int, what: str = "The file", through: str = "") -> str | None:
    """Why a file of `size` bytes may not be stored where `limit` bytes is the most, or None
    when it may. `what` names the file, `through` the way in when it has its own limit.
    The browser says the same, word for word (assets/src/limits.js, `tooLarge`)."""
    if size <= limit:
        return None
    return f"{what} is {exact(size)}; the largest file this site accepts{through} is {exact(limit)}"
