"""Typed accessors for every ckanext.s3multipart option.

The options are declared (types, defaults, validators) in config_declaration.yaml and
checked at start-up (`check`), so these functions only read and shape values.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import config_declaration
from ckan.exceptions import CkanConfigurationException

PREFIX = "ckanext.s3multipart."

# S3's own limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
MIN_PART_SIZE = 5 * 1024**2
MAX_PART_SIZE = 5 * 1024**3
MAX_PARTS = 10_000
MAX_OBJECT_SIZE = 5 * 1024**4
MAX_POST_SIZE = 5 * 1024**3
MAX_KEY_BYTES = 1024


def _get(name: str):
    return tk.config.get(PREFIX + name)


def check(ckan_config: Mapping[str, Any]) -> None:
    """Stop start-up when one of this plugin's options has a wrong value.

    CKAN 2.11 and later stop on any wrong value themselves; 2.10 only logs a warning unless
    `config.mode = strict`, which would leave a bad role ARN or part size to fail at the
    first upload. The message has core's shape, so it reads the same on every version."""
    if tk.check_ckan_version(min_version="2.11") or ckan_config.get("config.mode") == "strict":
        return  # core validates every option right after update_config, and stops
    _, errors = config_declaration.validate(ckan_config)
    ours = {key: issues for key, issues in errors.items() if key.startswith(PREFIX)}
    if ours:
        raise CkanConfigurationException("Invalid configuration values provided:\n" + "\n".join(
            f"{key}: {'; '.join(issues)}" for key, issues in sorted(ours.items())))


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
