"""Persistent download links: the Content-Disposition of the redirect, and counting.

Counting runs on a connection of its own, outside the request's session, so that a
failing count (table not migrated, database hiccup) can neither fail the download nor
leave the session unusable.
"""
from __future__ import annotations

import datetime
import logging
import re
import unicodedata
import urllib.parse
from typing import Any

import ckan.model as ckan_model
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from .model import DownloadCount

log = logging.getLogger(__name__)

_table = DownloadCount.__table__
# RFC 5987 attr-char beyond what urllib.parse.quote always keeps (letters, digits, _.-~).
_ATTR_CHARS = "!#$&+^`|"
_NOT_PLAIN = re.compile(r'[^\x20-\x7e]|["\\%;]')


class StatsUnavailable(Exception):
    """The counts cannot be read (the migration was not run, or the database failed)."""


def today() -> datetime.date:
    """The day a download counts for (UTC, so that every server agrees)."""
    return datetime.datetime.now(datetime.timezone.utc).date()


def content_disposition(file_name: str) -> str:
    """`attachment` with the file name, RFC 6266: a quoted ASCII fallback for old
    clients plus `filename*` carrying the real (UTF-8, percent-encoded) name."""
    name = unicodedata.normalize("NFC", file_name) or "download"
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = _NOT_PLAIN.sub("_", fallback).strip()
    if not fallback or fallback.startswith("."):
        # Nothing of the name but its extension survived (a name in another script).
        fallback = "download" + fallback
    encoded = urllib.parse.quote(name, safe=_ATTR_CHARS)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def count(resource_id: str) -> None:
    """Add one download of the resource today. Never raises: a lost count is logged,
    a failed download would be worse."""
    statement = insert(_table).values(resource_id=resource_id, day=today(), count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[_table.c.resource_id, _table.c.day],
        set_={"count": _table.c["count"] + 1})
    try:
        with ckan_model.meta.engine.begin() as connection:
            connection.execute(statement)
    except Exception as e:  # any failure at all: the download must go on
        log.warning("Could not count a download of resource %s (%s); run "
                    "`ckan db upgrade -p s3multipart` if the table is missing",
                    resource_id, type(e).__name__)


def stats(resource_id: str) -> dict[str, Any]:
    """Total and per-day downloads of a resource, oldest day first."""
    query = (sa.select(_table.c.day, _table.c["count"])
             .where(_table.c.resource_id == resource_id).order_by(_table.c.day))
    try:
        with ckan_model.meta.engine.connect() as connection:
            rows = connection.execute(query).all()
    except SQLAlchemyError as e:
        log.warning("Download counts of resource %s unavailable: %s", resource_id,
                    type(e).__name__)
        raise StatsUnavailable(str(e)) from None
    days = [{"date": day.isoformat(), "count": int(n)} for day, n in rows]
    return {"resource_id": resource_id, "total": sum(d["count"] for d in days), "days": days}


def total(resource_id: str) -> int | None:
    """The resource's total downloads, or None when the counts cannot be read."""
    try:
        return stats(resource_id)["total"]
    except StatsUnavailable:
        return None
