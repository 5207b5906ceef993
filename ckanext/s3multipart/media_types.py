"""Media types, in one place: what a file name suggests, and the Content-Type an object is
stored with. No CKAN import: the publisher's client uses it too."""
from __future__ import annotations

import mimetypes

OCTET_STREAM = "application/octet-stream"


def guess(name: str) -> str | None:
    """The media type a file name suggests (`data.csv` -> text/csv); None when it suggests
    none, which is what CKAN records then."""
    return mimetypes.guess_type(name)[0] if name else None


def content_type(declared: str | None, name: str = "") -> str:
    """The Content-Type an object is stored with: the declared type, else the name's
    guess, else application/octet-stream (S3 needs one; browsers then download it)."""
    return declared or guess(name) or OCTET_STREAM
