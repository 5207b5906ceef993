"""`ckan s3multipart list`, `orphans` and `abort-stale`: what the bucket holds for this
site, what no resource points at, and uploads nobody finished."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import ckan.model as model
import click
import sqlalchemy as sa

from .. import config, keys, storage
from ..failures import Failure
from ..keys import site_root
from ..sizes import human as human_size
from .output import amount, friendly, plural, where

# list ---------------------------------------------------------------------------------

def now() -> datetime.datetime:
    """The time stale uploads and old objects are measured from (tests move it)."""
    return datetime.datetime.now(datetime.timezone.utc)


@click.command("list", short_help="Datasets in the bucket, object counts and sizes.")
@friendly
def list_datasets() -> None:
    """Datasets stored in the bucket (by the key layout), each with its object count and
    total size, named where the dataset still exists in CKAN."""
    totals: dict[tuple[str, str] | None, list[int]] = {}
    for obj in storage.list_objects(site_root()):
        total = totals.setdefault(keys.dataset_of(obj["Key"]), [0, 0])
        total[0] += 1
        total[1] += obj["Size"]
    rows = []
    for place, (count, size) in totals.items():
        if place is None:
            rows.append(("(keys outside the layout)", "", count, size, ""))
            continue
        org_id, dataset_id = place
        package, org = model.Package.get(dataset_id), model.Group.get(org_id)
        name = "(not in CKAN)" if package is None else (
            package.name if package.state == "active" else f"{package.name} ({package.state})")
        rows.append((name, org.name if org else org_id, count, size, dataset_id))
    if not rows:
        click.echo(f"No objects under {where()}")
        return
    rows.sort(key=lambda r: (r[0].startswith("("), r[0]))
    width = max(len("DATASET"), *(len(r[0]) for r in rows))
    org_width = max(len("ORGANIZATION"), *(len(r[1]) for r in rows))
    click.echo(f"{'DATASET':<{width}}  {'ORGANIZATION':<{org_width}}  {'OBJECTS':>8}  "
               f"{'SIZE':>12}  DATASET ID")
    for name, org, count, size, dataset_id in rows:
        click.echo(f"{name:<{width}}  {org:<{org_width}}  {count:>8,}  {human_size(size):>12}  "
                   f"{dataset_id}")
    objects, size = sum(r[2] for r in rows), sum(r[3] for r in rows)
    click.echo(f"{plural(len(rows), 'row')}, {plural(objects, 'object')}, {human_size(size)} "
               f"under {where()}")


# orphans ------------------------------------------------------------------------------

def referenced_keys() -> dict[str, str]:
    """s3_key of every resource in the database -> its state (active or deleted)."""
    extras = sa.cast(model.resource_table.c.extras, sa.Text)
    rows = (model.Session.query(model.Resource.extras, model.Resource.state)
            .filter(extras.like('%"s3_key"%')))
    found: dict[str, str] = {}
    for resource_extras, state in rows:
        key = (resource_extras or {}).get("s3_key")
        if key and found.get(key) != "active":
            found[key] = state
    return found


@dataclass
class Orphans:
    objects: list[dict[str, Any]] = field(default_factory=list)
    newer: int = 0


def find_orphans(older_than_days: float) -> Orphans:
    """Objects under the site prefix that no active resource points at, last modified
    at least `older_than_days` ago (younger ones may be uploads about to be saved)."""
    referenced = referenced_keys()
    cutoff = now() - datetime.timedelta(days=older_than_days)
    found = Orphans()
    for obj in storage.list_objects(site_root()):
        state = referenced.get(obj["Key"])
        if state == "active":
            continue
        if obj["LastModified"] > cutoff:
            found.newer += 1
            continue
        found.objects.append({**obj, "note": "its resource was deleted" if state else ""})
    return found


@click.command(short_help="Objects no resource points at; --delete removes them.")
@click.option("--older-than", default=1.0, show_default=True, type=click.FloatRange(min=0),
              metavar="DAYS", help="Only objects last modified at least DAYS days ago "
                                   "(younger ones may be uploads whose form is not saved yet).")
@click.option("--delete", is_flag=True, help="Delete the orphans (asks first).")
@click.option("--yes", is_flag=True, help="Delete without asking.")
@friendly
def orphans(older_than: float, delete: bool, yes: bool) -> None:
    """Objects under the site prefix that no resource's s3_key points at (including
    files of deleted resources); --delete removes them."""
    found = find_orphans(older_than)
    for obj in found.objects:
        when = obj["LastModified"].strftime("%Y-%m-%d %H:%M")
        note = f"  ({obj['note']})" if obj["note"] else ""
        click.echo(f"{obj['Key']}  {human_size(obj['Size'])}  {when}{note}")
    total = sum(o["Size"] for o in found.objects)
    summary = f"{plural(len(found.objects), 'orphan')}, {human_size(total)} under {where()}"
    if found.newer:
        summary += (f" ({plural(found.newer, 'unreferenced object')} younger than "
                    f"{amount(older_than, 'day')} not counted)")
    click.echo(summary)
    if not delete or not found.objects:
        return
    if not yes:
        click.confirm(f"Delete {plural(len(found.objects), 'object')} ({human_size(total)}) from "
                      f"bucket {config.bucket()}?", abort=True)
    refused: list[str] = []
    batches = [found.objects[i:i + 1000] for i in range(0, len(found.objects), 1000)]
    with click.progressbar(batches, label="Deleting", file=click.get_text_stream("stderr"),
                           item_show_func=lambda b: None) as bar:
        for batch in bar:
            refused += storage.delete_objects(o["Key"] for o in batch)
    click.echo(f"Deleted {plural(len(found.objects) - len(refused), 'object')}")
    if refused:
        raise Failure(f"S3 refused to delete {plural(len(refused), 'object')}, "
                      f"first {refused[0]}", "the server's identity needs s3:DeleteObject")


# abort-stale --------------------------------------------------------------------------

@click.command("abort-stale", short_help="Abort multipart uploads older than HOURS.")
@click.option("--older-than", required=True, type=click.FloatRange(min=0), metavar="HOURS",
              help="Abort uploads started at least HOURS hours ago.")
@friendly
def abort_stale(older_than: float) -> None:
    """Abort multipart uploads under the site prefix started more than HOURS ago; S3 then
    drops their parts. Prints each upload it aborts."""
    cutoff = now() - datetime.timedelta(hours=older_than)
    stale = [u for u in storage.list_uploads(site_root()) if u["Initiated"] <= cutoff]
    failures = 0
    for upload in stale:
        started = upload["Initiated"].strftime("%Y-%m-%d %H:%M")
        try:
            storage.abort_multipart_upload(upload["Key"], upload["UploadId"])
        except storage.StorageError as e:
            failures += 1
            click.echo(f"could not abort {upload['Key']} (upload {upload['UploadId']}): {e}",
                       err=True)
            continue
        click.echo(f"aborted {upload['Key']} (upload {upload['UploadId']}, started {started})")
    click.echo(f"{plural(len(stale) - failures, 'upload')} older than "
               f"{amount(older_than, 'hour')} aborted under {where()}")
    if failures:
        raise Failure(f"{plural(failures, 'upload')} could not be aborted",
                      "the server's identity needs s3:AbortMultipartUpload")

