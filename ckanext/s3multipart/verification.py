"""Fixity: a background job reads a resource's object back from the store, computes its
SHA-256 and records whether it is the `hash` the resource claims.

A save that gives a resource a new `s3_key` (or a new claimed hash) schedules a check, and
the job is enqueued only once that save is committed: a worker must never read a resource
before its transaction has written it. Records live in their own table (model.Verification)
and are read and written on connections of their own, like the download counts, so that
neither a missing table nor an unreachable Redis can fail a save or a page.
"""
from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from . import storage
from .checksums import HASH_ALGORITHM
from .model import Verification

log = logging.getLogger(__name__)

_table = Verification.__table__
_SCHEDULED = "s3multipart_verify"  # the session's info key: checks due at its commit
# A job's time limit: a floor for the store's first byte, then the object at a slow
# reading speed, so that a 2 TB object is never cut short while a stuck job still ends.
TIMEOUT_FLOOR_SECONDS = 600
SLOWEST_READ = 10 * 1024**2  # bytes a second
CHUNK = 8 * 1024**2
PROBLEMS = ("mismatch", "missing", "error")


@dataclass(frozen=True)
class Due:
    """A resource whose object is to be checked."""

    resource_id: str
    key: str
    expected: str
    size: int | None


@dataclass(frozen=True)
class Outcome:
    status: str  # verified, mismatch, missing, error
    expected: str
    actual: str = ""
    message: str = ""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def claim(hash_value: str | None, algorithm: str | None) -> str:
    """The SHA-256 a resource claims, lowercase; "" for none. A hash in another algorithm
    is no SHA-256 claim: it is compared with nothing."""
    if (algorithm or HASH_ALGORITHM).lower() != HASH_ALGORITHM:
        return ""
    return (hash_value or "").strip().lower()


def due(resource: model.Resource) -> Due:
    return Due(resource.id, resource.extras["s3_key"],
               claim(resource.hash, (resource.extras or {}).get("hash_algorithm")),
               resource.size)


def records(resource_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The recorded checks of these resources; {} when the table cannot be read."""
    ids = list(resource_ids)
    if not ids:
        return {}
    try:
        with model.meta.engine.connect() as connection:
            rows = connection.execute(sa.select(_table).where(_table.c.resource_id.in_(ids)))
            return {row.resource_id: dict(row._mapping) for row in rows}
    except SQLAlchemyError as e:
        log.warning("Verification records unavailable (%s); run "
                    "`ckan db upgrade -p s3multipart` if the table is missing", type(e).__name__)
        return {}


def _write(resource_id: str, **values: Any) -> None:
    statement = insert(_table).values(resource_id=resource_id, **values)
    statement = statement.on_conflict_do_update(index_elements=[_table.c.resource_id],
                                                set_=values)
    with model.meta.engine.begin() as connection:
        connection.execute(statement)


# Scheduling: on save, enqueued at commit

def schedule(package_id: str, committed: bool) -> None:
    """Check every S3 resource of the dataset whose key or claimed hash differs from what
    was last checked (or queued): now if the save is `committed`, else at its commit."""
    package = model.Package.get(package_id)
    if package is None:
        return
    resources = [r for r in package.resources if r.state == "active" and r.extras.get("s3_key")]
    known = records(r.id for r in resources)
    wanted = [d for d in map(due, resources)
              if (known.get(d.resource_id) or {}).get("s3_key") != d.key
              or known[d.resource_id]["expected"] != d.expected]
    if committed:
        for item in wanted:
            enqueue(item)
    elif wanted:
        model.Session().info.setdefault(_SCHEDULED, []).extend(wanted)


@event.listens_for(model.Session, "after_commit")
def _enqueue_committed(session: Any) -> None:
    for item in session.info.pop(_SCHEDULED, []):
        enqueue(item)


@event.listens_for(model.Session, "after_rollback")
def _forget_rolled_back(session: Any) -> None:
    session.info.pop(_SCHEDULED, None)


def timeout(size: int | None) -> int:
    return TIMEOUT_FLOOR_SECONDS + (size or 0) // SLOWEST_READ


def enqueue(item: Due) -> bool:
    """Queue the check for `ckan jobs worker` and record it as pending. Never raises: a
    save must not fail because Redis is away; `ckan s3multipart verify` queues it later."""
    # Pending first: a fast worker's outcome must not be overwritten by it.
    try:
        _write(item.resource_id, s3_key=item.key, status="pending", expected=item.expected,
               actual="", size=item.size, queued=_now(), checked=None, message="")
    except SQLAlchemyError as e:
        log.warning("Could not record the verification of resource %s (%s); run "
                    "`ckan db upgrade -p s3multipart`", item.resource_id, type(e).__name__)
        return False
    try:
        tk.enqueue_job(run, [item.resource_id, item.key], title=f"s3multipart verify "
                       f"{item.resource_id}", rq_kwargs={"timeout": timeout(item.size)})
    except Exception as e:  # Redis: the upload itself is done and kept
        log.warning("Could not queue the verification of resource %s (%s: %s); "
                    "`ckan s3multipart verify` queues it again", item.resource_id,
                    type(e).__name__, e)
        return False
    return True


# Checking

def object_sha256(key: str) -> tuple[str, int]:
    """The SHA-256 and size of the stored object, streamed: memory stays a chunk."""
    digest, size = hashlib.sha256(), 0
    for chunk in storage.read_chunks(key, CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def check(item: Due) -> Outcome:
    """Read the object and compare; never raises for what the store answers."""
    try:
        actual, _size = object_sha256(item.key)
    except storage.StorageError as e:
        if e.code in ("NoSuchKey", "404"):
            return Outcome("missing", item.expected, message=f"no object at {item.key}")
        return Outcome("error", item.expected, message=str(e))
    if item.expected and actual != item.expected:
        return Outcome("mismatch", item.expected, actual,
                       f"the resource records SHA-256 {item.expected}, the stored "
                       f"object's is {actual}")
    return Outcome("verified", item.expected or actual, actual)


def record(item: Due, outcome: Outcome) -> None:
    _write(item.resource_id, s3_key=item.key, status=outcome.status,
           expected=outcome.expected, actual=outcome.actual, size=item.size,
           checked=_now(), message=outcome.message)
    if outcome.status == "verified" and not item.expected:
        # No claim (uploaded before checksums, or by a client that sent none): the
        # object's own SHA-256 becomes the resource's, recorded first so that this save
        # schedules nothing. Set on the row, not through package_update, so that a dataset
        # today's schema would refuse still gets it.
        resource = model.Resource.get(item.resource_id)
        if resource is not None and not resource.hash:
            resource.hash = outcome.actual
            resource.extras = {**(resource.extras or {}), "hash_algorithm": HASH_ALGORITHM}
            model.repo.commit()
    if outcome.status in PROBLEMS:
        log.error("Verification of resource %s: %s (%s)", item.resource_id, outcome.status,
                  outcome.message)


def current(resource_id: str, key: str) -> Due | None:
    """The resource as it is now, if it still points at `key` (a queued job may have been
    overtaken by a newer upload or a deletion)."""
    model.Session.expire_all()
    resource = model.Resource.get(resource_id)
    if resource is None or resource.state != "active" or resource.extras.get("s3_key") != key:
        return None
    return due(resource)


def run(resource_id: str, key: str) -> str:
    """The background job (`ckan jobs worker`): check the object, record the outcome."""
    item = current(resource_id, key)
    if item is None:
        log.info("Verification of resource %s skipped: it no longer points at %s",
                 resource_id, key)
        return "superseded"
    outcome = check(item)
    record(item, outcome)
    return outcome.status


# Reading, for resource_show and the resource page

def shown(record: dict[str, Any] | None, key: str, claimed: str) -> dict[str, Any]:
    """What `resource_show` says of a resource's check (`s3_verification`)."""
    # A record of another object or of another claim says nothing of this one.
    if not record or record["s3_key"] != key or record["expected"] != claimed:
        return {"status": "not_verified"}
    answer: dict[str, Any] = {"status": record["status"]}
    if record["checked"] is not None:
        answer["checked"] = record["checked"].isoformat()
    if record["actual"]:
        answer["object_sha256"] = record["actual"]
    if record["message"]:
        answer["message"] = record["message"]
    return answer


def add_to(package_dict: dict[str, Any]) -> None:
    """Put each S3 resource's check into a package_show answer: one query a dataset."""
    resources = [r for r in package_dict.get("resources") or [] if r.get("s3_key")]
    known = records(r["id"] for r in resources if r.get("id"))
    for resource in resources:
        resource["s3_verification"] = shown(
            known.get(resource.get("id", "")), resource["s3_key"],
            claim(resource.get("hash"), resource.get("hash_algorithm")))


# Choosing, for `ckan s3multipart verify`

def s3_resources(package: model.Package | None) -> list[model.Resource]:
    """The active S3 resources of one dataset, or of every live dataset of the site."""
    query = (model.Session.query(model.Resource)
             .join(model.Package, model.Resource.package_id == model.Package.id)
             .filter(model.Resource.state == "active",
                     model.Package.state.in_(["active", "draft"]),
                     sa.cast(model.resource_table.c.extras, sa.Text).like('%"s3_key"%'))
             .order_by(model.Package.name, model.Resource.position))
    if package is not None:
        query = query.filter(model.Package.id == package.id)
    return [r for r in query if r.extras.get("s3_key")]


def is_verified(item: Due, record: dict[str, Any] | None) -> bool:
    return shown(record, item.key, item.expected)["status"] == "verified"
