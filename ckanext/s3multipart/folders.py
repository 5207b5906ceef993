"""What the files of a folder are called in a dataset, and which of them to leave out.

A file's name in a batch is its path relative to the folder chosen (the folder's own name
first, as browsers give it: `survey/2024/01/day.csv`). Files an operating system leaves
behind (system_files.json, which the browser bundle imports too) are skipped. No CKAN
import: the publisher's client uses this module without CKAN.
"""
from __future__ import annotations

import json
import pathlib
import unicodedata

# The most files one s3multipart_batch_keys call plans, and resources one
# s3multipart_resources_create call makes (a HEAD each and one dataset save).
KEYS_PER_CALL = 1000
RESOURCES_PER_CALL = 100

_SYSTEM = json.loads(pathlib.Path(__file__).with_name("system_files.json").read_text())
_NAMES = {name.lower() for name in _SYSTEM["names"]}
_NAME_PREFIXES = tuple(prefix.lower() for prefix in _SYSTEM["name_prefixes"])
_FOLDERS = {name.lower() for name in _SYSTEM["folders"]}


def relative_path(name: str) -> str:
    """A file's path within its batch as people read it: `/` between folders, NFC, no
    empty or `.` segments; "" when nothing is left. The resource's name, and what a file
    already present is recognised by (with its size)."""
    segments = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")
    return "/".join(s for s in (segment.strip() for segment in segments) if s not in ("", "."))


def is_system_file(name: str) -> bool:
    """True for a file an operating system made (`.DS_Store`, `Thumbs.db`, `._x`, anything
    in `__MACOSX/`), which a folder upload leaves out unless asked not to."""
    *folders, file_name = relative_path(name).lower().split("/")
    return (file_name in _NAMES or file_name.startswith(_NAME_PREFIXES)
            or any(folder in _FOLDERS for folder in folders))
