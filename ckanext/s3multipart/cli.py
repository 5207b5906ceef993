"""`ckan s3multipart ...`: the operator's commands.

check, setup-bucket, list, orphans, abort-stale and migrate. Every S3 call goes through
`storage`; errors end the command with one line and a hint, never a traceback.
"""
from __future__ import annotations

import datetime
import fnmatch
import functools
import hashlib
import json
import mimetypes
import os
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import ckan.lib.uploader as core_uploader
import ckan.model as model
import ckan.plugins.toolkit as tk
import click
import sqlalchemy as sa
from ckan.common import config_declaration

from . import config, credentials, parts, storage, uploads
from .sizes import human as human_size

__all__ = ["s3multipart"]

CORS_METHODS = ["PUT", "POST", "GET", "HEAD", "DELETE"]
# Headers the browser's AWS SDK sends in STS mode (part PUTs are presigned and send none).
STS_HEADERS = ["authorization", "content-type", "x-amz-date", "x-amz-security-token",
               "x-amz-content-sha256", "x-amz-user-agent", "amz-sdk-invocation-id",
               "amz-sdk-request", "x-amz-meta-ckan-user"]


class Failure(click.ClickException):
    """A one-line error with what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message}; {hint}" if hint else message)


def _friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors an operator can act on into one line (click prints `Error: ...`)."""
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except storage.StorageError as e:
            raise Failure(str(e), "`ckan s3multipart check` tells what is wrong") from None
        except (tk.ValidationError, tk.ObjectNotFound, tk.NotAuthorized) as e:
            raise Failure(_ckan_error(e)) from None
    return run


def _ckan_error(error: Exception) -> str:
    if isinstance(error, tk.ValidationError):
        return json.dumps(error.error_dict, ensure_ascii=False)
    return str(error) or type(error).__name__


def _now() -> datetime.datetime:
    """The time stale uploads and old objects are measured from (tests move it)."""
    return datetime.datetime.now(datetime.timezone.utc)


def _site_root() -> str:
    """Where this site's objects live: `<s3_prefix>/`, or the whole bucket."""
    return config.site_prefix() + "/" if config.site_prefix() else ""


def _where() -> str:
    return f"s3://{config.bucket()}/{_site_root()}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _amount(n: float, unit: str) -> str:
    return f"{n:g} {unit}" if n == 1 else f"{n:g} {unit}s"


def _site_origin() -> str:
    """The browser origin of ckan.site_url (scheme://host[:port], no path)."""
    url = urllib.parse.urlsplit(tk.config.get("ckan.site_url") or "")
    return f"{url.scheme}://{url.netloc}"


def _rule_id(purpose: str) -> str:
    site = re.sub(r"[^\w.-]", "-", config.site_id())
    return f"ckanext-s3multipart-{site}{purpose}"[:255]


@click.group(short_help="S3 uploads: check and set up the bucket, list, clean up, migrate.")
def s3multipart() -> None:
    """Operator commands of ckanext-s3multipart."""


# check ----------------------------------------------------------------------------------

@dataclass
class Result:
    status: str  # OK, WARN, FAIL or SKIP
    message: str
    hint: str = ""


def _check_config() -> Result:
    _, errors = config_declaration.validate(tk.config)
    problems = [f"{key}: {'; '.join(issues)}" for key, issues in errors.items()
                if str(key).startswith(config.PREFIX)]
    if not config.bucket():
        problems.append(f"{config.PREFIX}s3_bucket is not set")
    configured_mode = tk.config.get(config.PREFIX + "mode") or "auto"
    if configured_mode == "sts" and not config.role_arn():
        problems.append(f"{config.PREFIX}mode is sts but s3_role is empty")
    if not re.match(r"^https?://[^/]+", tk.config.get("ckan.site_url") or ""):
        problems.append("ckan.site_url is not an http(s) URL")
    if problems:
        return Result("FAIL", "; ".join(problems),
                      "fix these options in the CKAN config file (see README, Configuration)")
    return Result("OK", f"bucket {config.bucket()}, region {config.region()}, "
                        f"mode {config.mode()}, endpoint {config.endpoint_url() or 'AWS'}, "
                        f"prefix {config.site_prefix() or '(none: the whole bucket)'}")


def _check_orgs() -> Result:
    names = config.enabled_orgs()
    hint = f"list organization names (URL slugs) in {config.PREFIX}enabled_orgs, or *"
    if not names:
        return Result("WARN", "no organization is enabled, so nobody can upload", hint)
    if "*" in names:
        return Result("OK", "every organization is enabled (*)")
    unknown = [n for n in names if not (model.Group.get(n) and model.Group.get(n).is_organization)]
    if unknown:
        return Result("WARN", f"not organizations of this site: {', '.join(unknown)}", hint)
    return Result("OK", f"enabled: {', '.join(names)}")


def _check_credentials() -> Result:
    source = storage.credentials_source()
    if source is None:
        return Result("FAIL", "the CKAN server has no AWS credentials",
                      f"set {config.PREFIX}aws_access_key_id and aws_secret_access_key, or give "
                      "the server an instance role or AWS_* environment variables")
    return Result("OK", f"server credentials from {source}")


def _check_bucket() -> Result:
    try:
        storage.head_bucket()
    except storage.StorageError as e:
        hints = {"404": f"create bucket {config.bucket()} or fix {config.PREFIX}s3_bucket",
                 "403": f"the server's identity needs s3:ListBucket on {config.bucket()}",
                 "Unreachable": f"check {config.PREFIX}endpoint_url and the network"}
        return Result("FAIL", str(e), hints.get(e.code, "see README, AWS setup"))
    return Result("OK", f"{config.bucket()} is reachable")


def _check_write() -> Result:
    key = f"{_site_root()}s3multipart-check/{uuid.uuid4().hex}"
    try:
        upload_id = storage.create_multipart_upload(key, "application/octet-stream", {})
        storage.abort_multipart_upload(key, upload_id)
    except storage.StorageError as e:
        return Result("FAIL", str(e),
                      "the server's identity needs s3:PutObject and s3:AbortMultipartUpload "
                      f"on {config.bucket()}/{_site_root()}*")
    return Result("OK", f"the server can start and abort uploads under {_where()}")


def _check_role() -> Result:
    if config.mode() != "sts":
        return Result("SKIP", "presigned mode: no role to assume")
    try:
        answer = credentials.issue(f"{_site_root()}s3multipart-check/", "s3multipart-check")
    except storage.StorageError as e:
        if e.code == "Unreachable":
            return Result("FAIL", str(e), f"check {config.PREFIX}sts_endpoint_url and the network")
        return Result("FAIL", f"cannot assume {config.role_arn()}: {e}",
                      "the role must trust the server's identity, the server needs "
                      "sts:AssumeRole on it, and its maximum session duration must be at least "
                      f"{config.PREFIX}credentials_duration (see README, AWS setup for STS mode)")
    return Result("OK", f"assumed {config.role_arn()} (credentials valid until "
                        f"{answer['Credentials']['Expiration']})")


def _matches(pattern: str, value: str) -> bool:
    # S3 allows one * wildcard in AllowedOrigins and AllowedHeaders entries.
    return fnmatch.fnmatchcase(value.lower(), pattern.lower().replace("[", "[[]"))


def _cors_rule_for(rules: list[dict[str, Any]], origin: str, method: str,
                   headers: list[str]) -> dict[str, Any] | None:
    """The rule S3 applies to a request: the first whose origin, method and headers match."""
    for rule in rules:
        if (any(_matches(o, origin) for o in rule.get("AllowedOrigins", []))
                and method in rule.get("AllowedMethods", [])
                and all(any(_matches(a, h) for a in rule.get("AllowedHeaders", []))
                        for h in headers)):
            return rule
    return None


def cors_problems(rules: list[dict[str, Any]], origin: str, mode: str) -> list[str]:
    """What keeps browsers at `origin` from uploading under these CORS rules ([] = nothing)."""
    problems = []
    put = _cors_rule_for(rules, origin, "PUT", [])
    if put is None:
        problems.append(f"no rule lets {origin} PUT parts")
    elif not any(h.lower() == "etag" for h in put.get("ExposeHeaders", [])):
        problems.append(f"the rule for PUT from {origin} does not expose ETag")
    if mode == "sts":
        methods, headers = [], set()
        for method in ("POST", "GET", "DELETE"):
            if _cors_rule_for(rules, origin, method, STS_HEADERS) is not None:
                continue
            rule = _cors_rule_for(rules, origin, method, [])
            if rule is None:
                methods.append(method)
            else:  # the method is allowed, some of the SDK's headers are not
                headers.update(h for h in STS_HEADERS if not any(
                    _matches(allowed, h) for allowed in rule.get("AllowedHeaders", [])))
        if methods:
            problems.append(f"no rule lets {origin} send {', '.join(methods)} with the AWS "
                            "SDK's headers (AllowedHeaders *)")
        if headers:
            problems.append(f"the rules for {origin} do not allow headers the AWS SDK sends: "
                            f"{', '.join(sorted(headers))} (AllowedHeaders *)")
    return problems


def _check_cors() -> Result:
    try:
        rules = storage.bucket_cors()
    except storage.StorageError as e:
        return Result("FAIL", str(e), f"the server's identity needs s3:GetBucketCors on "
                                      f"{config.bucket()}")
    problems = cors_problems(rules, _site_origin(), config.mode())
    if not rules:
        problems = [f"bucket {config.bucket()} has no CORS rules, so browsers cannot upload"]
    if problems:
        return Result("FAIL", "; ".join(problems), "run `ckan s3multipart setup-bucket`")
    return Result("OK", f"browsers at {_site_origin()} may upload and read ETag")


def _lifecycle_prefix(rule: dict[str, Any]) -> str | None:
    """The key prefix a lifecycle rule applies to (None when it also filters on tags/size)."""
    if "Filter" not in rule:
        return rule.get("Prefix", "")
    filter_ = rule["Filter"]
    if set(filter_) <= {"Prefix"}:
        return filter_.get("Prefix", "")
    return None


def _check_lifecycle() -> Result:
    hint = "run `ckan s3multipart setup-bucket`"
    try:
        rules = storage.bucket_lifecycle()
    except storage.StorageError as e:
        return Result("WARN", str(e), "the server's identity needs "
                                      f"s3:GetLifecycleConfiguration on {config.bucket()}")
    for rule in rules:
        prefix = _lifecycle_prefix(rule)
        days = rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
        if (rule.get("Status") == "Enabled" and days and prefix is not None
                and _site_root().startswith(prefix)):
            return Result("OK", f"incomplete uploads are aborted after {_plural(days, 'day')} "
                                f"(rule {rule.get('ID') or '(no id)'})")
    return Result("WARN", "no lifecycle rule aborts incomplete multipart uploads, so forgotten "
                          "parts are stored (and billed) forever", hint)


CHECKS: list[tuple[str, Callable[[], Result]]] = [
    ("config", _check_config),
    ("organizations", _check_orgs),
    ("credentials", _check_credentials),
    ("bucket", _check_bucket),
    ("write", _check_write),
    ("role", _check_role),
    ("cors", _check_cors),
    ("lifecycle", _check_lifecycle),
]
COLOURS = {"OK": "green", "WARN": "yellow", "FAIL": "red", "SKIP": "blue"}


@s3multipart.command(short_help="Check config, bucket, role, CORS and lifecycle rules.")
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check the configuration, the bucket, the role (STS mode) and the bucket's CORS and
    lifecycle rules: one line per check; exits with 1 if any check fails."""
    any_failed = blocked = False
    for name, run in CHECKS:
        if blocked and name in ("write", "cors", "lifecycle"):
            result = Result("SKIP", "needs server credentials and a reachable bucket")
        else:
            try:
                result = run()
            except storage.StorageError as e:
                result = Result("FAIL", str(e), "see README, AWS setup")
        any_failed |= result.status == "FAIL"
        blocked |= name in ("credentials", "bucket") and result.status == "FAIL"
        status = click.style(f"{result.status:<4}", fg=COLOURS[result.status])
        click.echo(f"{status}  {name:<14}{result.message}"
                   + (f"; fix: {result.hint}" if result.hint else ""))
    if any_failed:
        ctx.exit(1)


# setup-bucket -------------------------------------------------------------------------

def site_cors_rule() -> dict[str, Any]:
    """The CORS rule browsers at ckan.site_url need (see README, Bucket CORS)."""
    return {"ID": _rule_id(""), "AllowedOrigins": [_site_origin()],
            "AllowedMethods": CORS_METHODS, "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 3000}


def abort_rule(days: int, legacy_prefix: bool) -> dict[str, Any]:
    """The lifecycle rule aborting this site's incomplete uploads after `days` days."""
    rule: dict[str, Any] = {"ID": _rule_id("-abort-incomplete-uploads"), "Status": "Enabled",
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days}}
    # S3 refuses a configuration that mixes rules with a top-level Prefix (the old form)
    # and rules with a Filter, so ours follows the bucket's existing rules.
    if legacy_prefix:
        rule["Prefix"] = _site_root()
    else:
        rule["Filter"] = {"Prefix": _site_root()}
    return rule


def _replace(rules: list[dict[str, Any]], ours: dict[str, Any],
             first: bool) -> list[dict[str, Any]]:
    """`rules` with ours replacing the rule of the same ID (or added first or last)."""
    others = [r for r in rules if r.get("ID") != ours["ID"]]
    if len(others) < len(rules) and not first:
        return [ours if r.get("ID") == ours["ID"] else r for r in rules]
    return [ours, *others] if first else [*others, ours]


def _same_rules(stored: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    """Whether the bucket already has exactly these rules, as a store may write them back:
    Ceph RGW reorders rules and the methods of a CORS rule, and reads a lifecycle Filter of
    only a Prefix back as the old top-level Prefix."""
    def canonical(rule: dict[str, Any]) -> str:
        rule = dict(rule)
        if "Prefix" in rule and "Filter" not in rule:
            rule["Filter"] = {"Prefix": rule.pop("Prefix")}
        return json.dumps({k: sorted(v) if isinstance(v, list) and all(
            isinstance(i, str) for i in v) else v for k, v in rule.items()}, sort_keys=True)
    return sorted(map(canonical, stored)) == sorted(map(canonical, wanted))


@s3multipart.command("setup-bucket", short_help="Write the bucket's CORS and lifecycle rules.")
@click.option("--abort-after-days", default=7, show_default=True, type=click.IntRange(1, 36500),
              help="Days after which S3 aborts an incomplete multipart upload of this site.")
@_friendly
def setup_bucket(abort_after_days: int) -> None:
    """Write the bucket's CORS rule for ckan.site_url and a lifecycle rule that aborts
    this site's incomplete multipart uploads. The bucket's other rules are kept;
    running it again changes nothing."""
    cors = storage.bucket_cors()
    # First: S3 applies the first rule that matches, and ours must expose ETag.
    new_cors = _replace(cors, site_cors_rule(), first=True)
    others = len(new_cors) - 1
    if _same_rules(cors, new_cors):
        click.echo(f"CORS: rule {_rule_id('')} for {_site_origin()} already set")
    else:
        storage.put_bucket_cors(new_cors)
        click.echo(f"CORS: rule {_rule_id('')} lets {_site_origin()} upload "
                   f"({', '.join(CORS_METHODS)}; exposes ETag); "
                   f"{_plural(others, 'other rule')} kept")
    lifecycle = storage.bucket_lifecycle()
    legacy = any("Prefix" in r and "Filter" not in r for r in lifecycle)
    new_lifecycle = _replace(lifecycle, abort_rule(abort_after_days, legacy), first=False)
    others = len(new_lifecycle) - 1
    where = f"under '{_site_root()}'" if _site_root() else "in the whole bucket"
    if _same_rules(lifecycle, new_lifecycle):
        click.echo(f"Lifecycle: rule {_rule_id('-abort-incomplete-uploads')} already set")
    else:
        storage.put_bucket_lifecycle(new_lifecycle)
        click.echo(f"Lifecycle: incomplete multipart uploads {where} are aborted after "
                   f"{_plural(abort_after_days, 'day')}; {_plural(others, 'other rule')} kept")


# list ---------------------------------------------------------------------------------

def _split(key: str) -> tuple[str, str] | None:
    """(organization id, dataset id) of a key in the layout, None for other keys."""
    segments = key[len(_site_root()):].split("/")
    return (segments[0], segments[1]) if len(segments) >= 3 and all(segments[:2]) else None


@s3multipart.command("list", short_help="Datasets in the bucket, object counts and sizes.")
@_friendly
def list_datasets() -> None:
    """Datasets stored in the bucket (by the key layout), each with its object count and
    total size, named where the dataset still exists in CKAN."""
    totals: dict[tuple[str, str] | None, list[int]] = {}
    for obj in storage.list_objects(_site_root()):
        total = totals.setdefault(_split(obj["Key"]), [0, 0])
        total[0] += 1
        total[1] += obj["Size"]
    rows = []
    for where, (count, size) in totals.items():
        if where is None:
            rows.append(("(keys outside the layout)", "", count, size, ""))
            continue
        org_id, dataset_id = where
        package, org = model.Package.get(dataset_id), model.Group.get(org_id)
        name = "(not in CKAN)" if package is None else (
            package.name if package.state == "active" else f"{package.name} ({package.state})")
        rows.append((name, org.name if org else org_id, count, size, dataset_id))
    if not rows:
        click.echo(f"No objects under {_where()}")
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
    click.echo(f"{_plural(len(rows), 'row')}, {_plural(objects, 'object')}, {human_size(size)} "
               f"under {_where()}")


# orphans ------------------------------------------------------------------------------

def _referenced_keys() -> dict[str, str]:
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
    referenced = _referenced_keys()
    cutoff = _now() - datetime.timedelta(days=older_than_days)
    found = Orphans()
    for obj in storage.list_objects(_site_root()):
        state = referenced.get(obj["Key"])
        if state == "active":
            continue
        if obj["LastModified"] > cutoff:
            found.newer += 1
            continue
        found.objects.append({**obj, "note": "its resource was deleted" if state else ""})
    return found


@s3multipart.command(short_help="Objects no resource points at; --delete removes them.")
@click.option("--older-than", default=1.0, show_default=True, type=click.FloatRange(min=0),
              metavar="DAYS", help="Only objects last modified at least DAYS days ago "
                                   "(younger ones may be uploads whose form is not saved yet).")
@click.option("--delete", is_flag=True, help="Delete the orphans (asks first).")
@click.option("--yes", is_flag=True, help="Delete without asking.")
@_friendly
def orphans(older_than: float, delete: bool, yes: bool) -> None:
    """Objects under the site prefix that no resource's s3_key points at (including
    files of deleted resources); --delete removes them."""
    found = find_orphans(older_than)
    for obj in found.objects:
        when = obj["LastModified"].strftime("%Y-%m-%d %H:%M")
        note = f"  ({obj['note']})" if obj["note"] else ""
        click.echo(f"{obj['Key']}  {human_size(obj['Size'])}  {when}{note}")
    total = sum(o["Size"] for o in found.objects)
    summary = f"{_plural(len(found.objects), 'orphan')}, {human_size(total)} under {_where()}"
    if found.newer:
        summary += (f" ({_plural(found.newer, 'unreferenced object')} younger than "
                    f"{_amount(older_than, 'day')} not counted)")
    click.echo(summary)
    if not delete or not found.objects:
        return
    if not yes:
        click.confirm(f"Delete {_plural(len(found.objects), 'object')} ({human_size(total)}) from "
                      f"bucket {config.bucket()}?", abort=True)
    refused: list[str] = []
    batches = [found.objects[i:i + 1000] for i in range(0, len(found.objects), 1000)]
    with click.progressbar(batches, label="Deleting", file=click.get_text_stream("stderr"),
                           item_show_func=lambda b: None) as bar:
        for batch in bar:
            refused += storage.delete_objects(o["Key"] for o in batch)
    click.echo(f"Deleted {_plural(len(found.objects) - len(refused), 'object')}")
    if refused:
        raise Failure(f"S3 refused to delete {_plural(len(refused), 'object')}, "
                      f"first {refused[0]}", "the server's identity needs s3:DeleteObject")


# abort-stale --------------------------------------------------------------------------

@s3multipart.command("abort-stale", short_help="Abort multipart uploads older than HOURS.")
@click.option("--older-than", required=True, type=click.FloatRange(min=0), metavar="HOURS",
              help="Abort uploads started at least HOURS hours ago.")
@_friendly
def abort_stale(older_than: float) -> None:
    """Abort multipart uploads under the site prefix started more than HOURS ago; S3 then
    drops their parts. Prints each upload it aborts."""
    cutoff = _now() - datetime.timedelta(hours=older_than)
    stale = [u for u in storage.list_uploads(_site_root()) if u["Initiated"] <= cutoff]
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
    click.echo(f"{_plural(len(stale) - failures, 'upload')} older than "
               f"{_amount(older_than, 'hour')} aborted under {_where()}")
    if failures:
        raise Failure(f"{_plural(failures, 'upload')} could not be aborted",
                      "the server's identity needs s3:AbortMultipartUpload")


# migrate ------------------------------------------------------------------------------

class Digest:
    """Hashes of a stream read once: MD5 of each part (S3's multipart ETag is the MD5 of
    those), MD5 and SHA-256 of the whole."""

    def __init__(self, part_size: int) -> None:
        self.part_size = part_size
        self.md5, self.sha256 = hashlib.md5(), hashlib.sha256()
        self.part_md5s: list[bytes] = []
        self._part, self._part_fill = hashlib.md5(), 0
        self.size = 0

    def update(self, data: bytes) -> None:
        self.md5.update(data)
        self.sha256.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            take = min(len(view), self.part_size - self._part_fill)
            self._part.update(view[:take])
            self._part_fill += take
            view = view[take:]
            if self._part_fill == self.part_size:
                self.part_md5s.append(self._part.digest())
                self._part, self._part_fill = hashlib.md5(), 0

    def etags(self) -> set[str]:
        """The ETags S3 gives this content: one PUT, or a multipart upload of these parts."""
        md5s = self.part_md5s + ([self._part.digest()] if self._part_fill else [])
        multipart = hashlib.md5(b"".join(md5s)).hexdigest() + f"-{max(1, len(md5s))}"
        return {self.md5.hexdigest(), multipart}


class HashingReader:
    """A file read once, front to back, hashing as it goes. Not seekable, so s3transfer
    reads it exactly once in order (and keeps at most a few parts in memory)."""

    def __init__(self, fileobj: IO[bytes], digest: Digest) -> None:
        self.fileobj, self.digest = fileobj, digest

    def read(self, size: int = -1) -> bytes:
        data = self.fileobj.read(size)
        self.digest.update(data)
        return data

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return True


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


def _local_files(dataset: str | None) -> Iterator[LocalFile]:
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
        org = model.Group.get(package.owner_org) if package.owner_org else None
        if org is None or not config.org_enabled(org.name):
            raise Failure(f"dataset '{package.name}' is not in an organization enabled for S3",
                          f"add its organization to {config.PREFIX}enabled_orgs first")
        query = query.filter(model.Package.id == package.id)
    local = core_uploader.ResourceUpload({})
    orgs: dict[str, bool] = {}
    for resource, package in query:
        if resource.extras.get("s3_key") or not package.owner_org:
            continue
        if package.owner_org not in orgs:
            org = model.Group.get(package.owner_org)
            orgs[package.owner_org] = bool(org) and config.org_enabled(org.name)
        if not orgs[package.owner_org]:
            continue
        path = local.get_path(resource.id)
        size = os.path.getsize(path) if os.path.isfile(path) else None
        yield LocalFile(resource, package, path, size)


def _in_s3_count(dataset: str | None) -> int:
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
    key = uploads.new_key(item.package, item.name)
    content_type = (item.resource.mimetype or mimetypes.guess_type(item.name)[0]
                    or "application/octet-stream")
    digest = Digest(parts.plan(item.size, config.part_size())[0])
    label = f"{item.package.name}/{item.name}"[-60:]
    with open(item.path, "rb") as local, click.progressbar(
            length=item.size, label=label, file=click.get_text_stream("stderr")) as bar:
        storage.upload_fileobj(key, HashingReader(local, digest), item.size, content_type,
                               uploads.metadata(item.package, user, item.resource.id),
                               callback=bar.update)
    try:
        how = verify(key, item.size, digest)
        tk.get_action("resource_patch")({"user": user}, {
            "id": item.resource.id, "url_type": "upload", "s3_key": key})
    except Exception:
        storage.delete(key)  # not pointed at: it would only be an orphan
        raise
    return f"s3://{config.bucket()}/{key}; verified by {how}"


@s3multipart.command(short_help="Move local-storage files of enabled orgs into S3.")
@click.option("--dataset", metavar="NAME", help="Only this dataset (name or id).")
@click.option("--dry-run", is_flag=True, help="Print what would move; change nothing.")
@_friendly
def migrate(dataset: str | None, dry_run: bool) -> None:
    """Move files of enabled organizations' resources from CKAN's local storage
    (ckan.storage_path) into S3: streamed, verified by size and checksum, then the
    resource's s3_key set. Local files are kept. Running it again skips what is done."""
    if not core_uploader.get_storage_path():
        raise Failure("ckan.storage_path is not set", "there are no local files to migrate")
    todo = list(_local_files(dataset))
    done = _in_s3_count(dataset)
    missing = [f for f in todo if f.size is None]
    ready = [f for f in todo if f.size is not None]
    too_big = [f for f in ready if f.size > config.max_size()]
    for item in missing:
        click.echo(f"missing  {item.package.name}/{item.name} (resource {item.resource.id}): "
                   f"no file at {item.path}", err=True)
    for item in too_big:
        click.echo(f"too big  {item.package.name}/{item.name}: {human_size(item.size)} is over "
                   f"{config.PREFIX}max_size", err=True)
    ready = [f for f in ready if f not in too_big]
    total = sum(f.size for f in ready)
    if dry_run:
        for item in ready:
            click.echo(f"would move  {item.package.name}/{item.name} ({human_size(item.size)}, "
                       f"resource {item.resource.id}) from {item.path}")
        click.echo(f"{_plural(len(ready), 'file')} ({human_size(total)}) to move, "
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
                _ckan_error(e) if isinstance(e, tk.ValidationError) else str(e))
            click.echo(f"failed   {item.package.name}/{item.name}: {message}", err=True)
            continue
        moved += 1
        click.echo(f"moved    {item.package.name}/{item.name} ({human_size(item.size)}) to {where}")
    click.echo(f"{_plural(moved, 'file')} moved, {done:,} already in S3, {failed:,} failed")
    if failed:
        raise Failure(f"{_plural(failed, 'file')} not moved",
                      "see the lines above; run migrate again once fixed")
