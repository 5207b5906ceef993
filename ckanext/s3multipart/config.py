"""Typed accessors for every ckanext.s3multipart option.

The options are declared (types, defaults, validators) in config_declaration.yaml and
checked at start-up (`check`), so these functions only read and shape values.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import config_declaration
from ckan.exceptions import CkanConfigurationException

from .limits import MAX_OBJECT_SIZE, MAX_PART_SIZE, MIN_PART_SIZE

PREFIX = "ckanext.s3multipart."


def _get(name: str):
    return tk.config.get(PREFIX + name)


# Rules CKAN's own validators cannot express. They are not in config_declaration.yaml:
# CKAN resolves a declaration's validators while plugins are still loading, before this
# plugin's are registered when another plugin listed earlier has filled CKAN's validator
# cache (ckan/ckan#7614), and start-up would then stop with UnknownValidator.
_ROLE_ARN = re.compile(r"^arn:[a-z][a-z-]*:iam::(\d{12})?:role/[\w+=,.@/-]{1,512}$")
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")
_REGION = re.compile(r"^[a-z0-9-]{2,32}$")
_KEY_PREFIX = re.compile(r"^[\w.!()'-]+(/[\w.!()'-]+)*$")
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
MAX_PREFIX_BYTES = 512  # keys must keep room for ids and file names within 1024 bytes


def _matches(pattern: re.Pattern[str], message: str) -> Callable[[Any], str | None]:
    return lambda value: None if pattern.match(str(value)) else message


def _whole_number(low: int, high: int) -> Callable[[Any], str | None]:
    def rule(value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return None
        return f"must be a whole number from {low} to {high}"
    return rule


def _key_prefix(value: Any) -> str | None:
    # IAM treats * and ? in resource ARNs as wildcards, so the prefix must not hold them.
    prefix = str(value).strip("/")
    if len(prefix.encode()) > MAX_PREFIX_BYTES:
        return f"must be at most {MAX_PREFIX_BYTES} bytes long"
    if prefix and not _KEY_PREFIX.match(prefix):
        return "must be folder names of letters, digits and . _ - ! ( ) ' separated by '/'"
    return None


_RULES: dict[str, Callable[[Any], str | None]] = {
    "s3_bucket": _matches(
        _BUCKET, "must be an S3 bucket name (3-255 letters, digits, '.', '-' or '_')"),
    "s3_region": _matches(_REGION, "must be a region name like us-east-1"),
    "s3_role": _matches(
        # AWS ARNs carry a 12-digit account; Ceph RGW and MinIO role ARNs have none.
        _ROLE_ARN, "must be an IAM role ARN like "
        "arn:aws:iam::123456789012:role/S3MultipartUploadOnly"),
    "s3_prefix": _key_prefix,
    "endpoint_url": _matches(_URL, "must be an http:// or https:// URL"),
    "sts_endpoint_url": _matches(_URL, "must be an http:// or https:// URL"),
    "credentials_duration": _whole_number(900, 43200),
    "part_size": _whole_number(MIN_PART_SIZE, MAX_PART_SIZE),
    "concurrency": _whole_number(1, 64),
    "files_concurrency": _whole_number(1, 16),
    "max_size": _whole_number(0, MAX_OBJECT_SIZE),
    "download_expiry": _whole_number(1, 604800),
}


def check(ckan_config: Mapping[str, Any]) -> None:
    """Stop start-up when one of this plugin's options has a wrong value.

    Runs from update_config, before core validates the declared options. The message has
    core's shape, so it reads the same on every version. CKAN 2.10 outside
    `config.mode = strict` only logs a warning for a value its declaration refuses, which
    would leave a bad part size to fail at the first upload: there the declaration is
    checked here too."""
    errors: dict[str, list[str]] = {}
    if not tk.check_ckan_version(min_version="2.11") and ckan_config.get("config.mode") != "strict":
        _, core_errors = config_declaration.validate(ckan_config)
        errors = {key: list(issues) for key, issues in core_errors.items()
                  if key.startswith(PREFIX)}
    for name, rule in _RULES.items():
        key = PREFIX + name
        value = ckan_config.get(key)
        if key in errors or value is None or value == "":  # empty: the default, or core's error
            continue
        issue = rule(value)
        if issue:
            errors[key] = [issue]
    if errors:
        raise CkanConfigurationException("Invalid configuration values provided:\n" + "\n".join(
            f"{key}: {'; '.join(issues)}" for key, issues in sorted(errors.items())))


def bucket() -> str:
    return _get("s3_bucket")


def region() -> str:
    return _get("s3_region") or "us-east-1"


def role_arn() -> str:
    return _get("s3_role") or ""


def site_prefix() -> str:
    return (_get("s3_prefix") or "").strip("/")


def enabled_orgs() -> list[str]:
    value = _get("enabled_orgs") or []
    return value.split() if isinstance(value, str) else list(value)


def org_enabled(org_name: str) -> bool:
    orgs = enabled_orgs()
    return "*" in orgs or org_name in orgs


def mode() -> str:
    """The effective upload mode, `sts` or `presigned` (`auto` resolved)."""
    configured = _get("mode") or "auto"
    if configured == "auto":
        return "sts" if role_arn() else "presigned"
    return configured


def endpoint_url() -> str | None:
    return _get("endpoint_url") or None


def sts_endpoint_url() -> str | None:
    return _get("sts_endpoint_url") or endpoint_url()


def addressing_style() -> str:
    return _get("addressing_style") or "auto"


def server_keys() -> tuple[str, str] | None:
    """The server's own key pair, or None to use boto3's standard chain."""
    key_id, secret = _get("aws_access_key_id"), _get("aws_secret_access_key")
    return (key_id, secret) if key_id and secret else None


def credentials_duration() -> int:
    return int(_get("credentials_duration"))


def part_size() -> int:
    return int(_get("part_size"))


def concurrency() -> int:
    return int(_get("concurrency"))


def files_concurrency() -> int:
    """Files in flight at once in a batch (a folder or many files)."""
    return int(_get("files_concurrency"))


def max_size() -> int:
    """Largest accepted object in bytes (S3's 5 TiB when the option is 0)."""
    return int(_get("max_size")) or MAX_OBJECT_SIZE


def acl() -> str | None:
    return _get("acl") or None


def download_expiry() -> int:
    return int(_get("download_expiry"))


def site_id() -> str:
    return tk.config.get("ckan.site_id") or "default"


def signing_secret() -> bytes:
    """CKAN's own secret (always set on 2.10+), used to sign the upload prefixes it issues."""
    return str(tk.config.get("SECRET_KEY") or tk.config.get("beaker.session.secret")).encode()
