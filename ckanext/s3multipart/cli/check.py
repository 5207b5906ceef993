"""`ckan s3multipart check`: one line for each thing the extension needs of the site,
the credentials, the bucket, the role and the bucket's rules."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import ckan.model as model
import ckan.plugins.toolkit as tk
import click
from ckan.common import config_declaration

from .. import config, credentials, media_types, storage
from ..keys import site_root
from .bucket import cors_problems, lifecycle_prefix, site_origin
from .output import plural, where


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
    key = f"{site_root()}s3multipart-check/{uuid.uuid4().hex}"
    try:
        upload_id = storage.create_multipart_upload(key, media_types.OCTET_STREAM, {})
        storage.abort_multipart_upload(key, upload_id)
    except storage.StorageError as e:
        return Result("FAIL", str(e),
                      "the server's identity needs s3:PutObject and s3:AbortMultipartUpload "
                      f"on {config.bucket()}/{site_root()}*")
    return Result("OK", f"the server can start and abort uploads under {where()}")


def _check_role() -> Result:
    if config.mode() != "sts":
        return Result("SKIP", "presigned mode: no role to assume")
    try:
        answer = credentials.issue(f"{site_root()}s3multipart-check/", "s3multipart-check")
    except storage.StorageError as e:
        if e.code == "Unreachable":
            return Result("FAIL", str(e), f"check {config.PREFIX}sts_endpoint_url and the network")
        return Result("FAIL", f"cannot assume {config.role_arn()}: {e}",
                      "the role must trust the server's identity, the server needs "
                      "sts:AssumeRole on it, and its maximum session duration must be at least "
                      f"{config.PREFIX}credentials_duration (see README, AWS setup for STS mode)")
    return Result("OK", f"assumed {config.role_arn()} (credentials valid until "
                        f"{answer['Credentials']['Expiration']})")


def _check_cors() -> Result:
    try:
        rules = storage.bucket_cors()
    except storage.StorageError as e:
        return Result("FAIL", str(e), f"the server's identity needs s3:GetBucketCors on "
                                      f"{config.bucket()}")
    problems = cors_problems(rules, site_origin(), config.mode())
    if not rules:
        problems = [f"bucket {config.bucket()} has no CORS rules, so browsers cannot upload"]
    if problems:
        return Result("FAIL", "; ".join(problems), "run `ckan s3multipart setup-bucket`")
    return Result("OK", f"browsers at {site_origin()} may upload and read ETag")


def _check_lifecycle() -> Result:
    hint = "run `ckan s3multipart setup-bucket`"
    try:
        rules = storage.bucket_lifecycle()
    except storage.StorageError as e:
        return Result("WARN", str(e), "the server's identity needs "
                                      f"s3:GetLifecycleConfiguration on {config.bucket()}")
    for rule in rules:
        prefix = lifecycle_prefix(rule)
        days = rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
        if (rule.get("Status") == "Enabled" and days and prefix is not None
                and site_root().startswith(prefix)):
            return Result("OK", f"incomplete uploads are aborted after {plural(days, 'day')} "
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


@click.command(short_help="Check config, bucket, role, CORS and lifecycle rules.")
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

