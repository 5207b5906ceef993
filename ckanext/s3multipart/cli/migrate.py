"""`ckan s3multipart migrate`: files of CKAN's local storage into S3, each verified before
its resource points at it."""
from __future__ import annotations

import hashlib
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import ckan.lib.uploader as core_uploader
import ckan.model as model
import ckan.plugins.toolkit as tk
import click
import sqlalchemy as sa

from .. import authz, config, grants, limits, media_types, parts, storage
from ..checksums import HASH_ALGORITHM, Digest, HashingReader
from ..failures import Failure
from ..sizes import human as human_size
from .output import ckan_error, friendly, plural


def verify(key: str, size: int, digest: Digest) -> str:
    """How the stored object was found equal to the bytes sent; raises Failure otherwise."""
    head = storage.head(key) or {}
    if head.get("ContentLength") != size or digest.size != size:
        raise Failure(f"s3://{config.bucket()}/{key} holds {head.get('ContentLength')} bytes, "
                      f"the local file {size} (read {digest.size})",
                      "was the file changed while it was copied? run migrate again")
    if head.get("ETag", "").strip('"') in digest.etags():
        return "size and MD5 (ETag)"
    # Encrypted with KMS, or a store with other ETags: read the object back.
    stored = hashlib.sha256()
    for chunk in storage.read_chunks(key):
        stored.update(chunk)
    if stored.digest() != digest.sha256.digest():
        raise Failure(f"s3://{config.bucket()}/{key} differs from the local file (SHA-256)",
                      "run migrate again")
    return "size and SHA-256 (read back)"


@dataclass
class LocalFile:
    resource: model.Resource
    package: model.Package
    path: str
    size: int | None  # None: the file is missing

    @property
    def name(self) -> str:
        url = urllib.parse.unquote((self.resource.url or "").rsplit("/", 1)[-1])
        return url or self.resource.id


def local_files(dataset: str | None) -> Iterator[LocalFile]:
    """Resources of enabled organizations uploaded to CKAN's own storage, not in S3 yet."""
    query = (model.Session.query(model.Resource, model.Package)
             .join(model.Package, model.Resource.package_id == model.Package.id)
             .filter(model.Resource.url_type == "upload", model.Resource.state == "active",
                     model.Package.state.in_(["active", "draft"]))
             .order_by(model.Package.name, model.Resource.position))
    if dataset:
        package = model.Package.get(dataset)
        if package is None or package.state not in ("active", "draft"):
            raise Failure(f"no dataset '{dataset}'", "give its name or id")
        if not authz.enabled(package):
            raise Failure(f"dataset '{package.name}' is not in an organization enabled for S3",
                          f"add its organization to {config.PREFIX}enabled_orgs first")
        query = query.filter(model.Package.id == package.id)
    local = core_uploader.ResourceUpload({})
    orgs: dict[str, bool] = {}
    for resource, package in query:
        if resource.extras.get("s3_key") or not package.owner_org:
            continue
        if package.owner_org not in orgs:  # one look-up per organization
            orgs[package.owner_org] = authz.enabled(package)
        if not orgs[package.owner_org]:
            continue
        path = local.get_path(resource.id)
        size = os.path.getsize(path) if os.path.isfile(path) else None
        yield LocalFile(resource, package, path, size)


def in_s3_count(dataset: str | None) -> int:
    query = (model.Session.query(model.Resource.extras)
             .join(model.Package, model.Resource.package_id == model.Package.id)
             .filter(model.Resource.url_type == "upload", model.Resource.state == "active",
                     sa.cast(model.resource_table.c.extras, sa.Text).like('%"s3_key"%')))
    if dataset:
        query = query.filter(sa.or_(model.Package.name == dataset, model.Package.id == dataset))
    return query.count()


def migrate_one(item: LocalFile, user: str) -> str:
    """Copy one local file to S3, verify it and point the resource at it."""
    assert item.size is not None
    key = grants.new_key(item.package, item.name)
    content_type = media_types.content_type(item.resource.mimetype, item.name)
    digest = Digest(parts.plan(item.size, config.part_size())[0])
    label = f"{item.package.name}/{item.name}"[-60:]
    with open(item.path, "rb") as local, click.progressbar(
            length=item.size, label=label, file=click.get_text_stream("stderr")) as bar:
        storage.upload_fileobj(key, HashingReader(local, digest), item.size, content_type,
                               grants.metadata(item.package, user, item.resource.id),
                               callback=bar.update)
    try:
        how = verify(key, item.size, digest)
        tk.get_action("resource_patch")({"user": user}, {
            "id": item.resource.id, "url_type": "upload", "s3_key": key,
            "hash": digest.sha256.hexdigest(), "hash_algorithm": HASH_ALGORITHM})
    except Exception:
        storage.delete(key)  # not pointed at: it would only be an orphan
        raise
    return f"s3://{config.bucket()}/{key}; verified by {how}"


@click.command(short_help="Move local-storage files of enabled orgs into S3.")
@click.option("--dataset", metavar="NAME", help="Only this dataset (name or id).")
@click.option("--dry-run", is_flag=True, help="Print what would move; change nothing.")
@friendly
def migrate(dataset: str | None, dry_run: bool) -> None:
    """Move files of enabled organizations' resources from CKAN's local storage
    (ckan.storage_path) into S3: streamed, verified by size and checksum, then the
    resource's s3_key set. Local files are kept. Running it again skips what is done."""
    if not core_uploader.get_storage_path():
        raise Failure("ckan.storage_path is not set", "there are no local files to migrate")
    todo = list(local_files(dataset))
    done = in_s3_count(dataset)
    missing = [f for f in todo if f.size is None]
    ready = [f for f in todo if f.size is not None]
    too_big = [f for f in ready if limits.too_large(f.size, config.max_size())]
    for item in missing:
        click.echo(f"missing  {item.package.name}/{item.name} (resource {item.resource.id}): "
                   f"no file at {item.path}", err=True)
    for item in too_big:
        problem = limits.too_large(item.size, config.max_size(), item.name)
        click.echo(f"too big  {item.package.name}/{item.name}: {problem} "
                   f"({config.PREFIX}max_size)", err=True)
    ready = [f for f in ready if f not in too_big]
    total = sum(f.size for f in ready)
    if dry_run:
        for item in ready:
            click.echo(f"would move  {item.package.name}/{item.name} ({human_size(item.size)}, "
                       f"resource {item.resource.id}) from {item.path}")
        click.echo(f"{plural(len(ready), 'file')} ({human_size(total)}) to move, "
                   f"{done:,} already in S3, {len(missing) + len(too_big):,} cannot move")
        return
    user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    failed = len(missing) + len(too_big)
    moved = 0
    for item in ready:
        try:
            where = migrate_one(item, user)
        except (Failure, storage.StorageError, tk.ValidationError, OSError) as e:
            failed += 1
            message = e.format_message() if isinstance(e, Failure) else (
                ckan_error(e) if isinstance(e, tk.ValidationError) else str(e))
            click.echo(f"failed   {item.package.name}/{item.name}: {message}", err=True)
            continue
        moved += 1
        click.echo(f"moved    {item.package.name}/{item.name} ({human_size(item.size)}) to {where}")
    click.echo(f"{plural(moved, 'file')} moved, {done:,} already in S3, {failed:,} failed")
    if failed:
        raise Failure(f"{plural(failed, 'file')} not moved",
                      "see the lines above; run migrate again once fixed")
