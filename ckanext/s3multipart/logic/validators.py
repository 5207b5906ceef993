"""Validators for the config declaration and the actions' schemas."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk

__all__ = [
    "s3multipart_int_range",
    "s3multipart_role_arn",
    "s3multipart_bucket_name",
    "s3multipart_region",
    "s3multipart_key_prefix",
    "s3multipart_url",
    "s3multipart_part_number",
    "s3multipart_part_numbers",
    "s3multipart_parts_listed_once",
    "s3multipart_size",
]

Invalid = tk.Invalid

# AWS ARNs carry a 12-digit account; Ceph RGW and MinIO role ARNs have none.
_ROLE_ARN = re.compile(r"^arn:[a-z][a-z-]*:iam::(\d{12})?:role/[\w+=,.@/-]{1,512}$")
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")
_REGION = re.compile(r"^[a-z0-9-]{2,32}$")
_KEY_PREFIX = re.compile(r"^[\w.!()'-]+(/[\w.!()'-]+)*$")
MAX_PART_NUMBER = 10_000


def s3multipart_int_range(low: int, high: int) -> Callable[[Any], int]:
    def validator(value: Any) -> int:
        if not isinstance(value, int) or not low <= value <= high:
            raise Invalid(tk._("must be a whole number from {} to {}").format(low, high))
        return value
    return validator


def s3multipart_role_arn(value: str) -> str:
    if not _ROLE_ARN.match(value):
        raise Invalid(tk._(
            "must be an IAM role ARN like arn:aws:iam::123456789012:role/S3MultipartUploadOnly"))
    return value


def s3multipart_bucket_name(value: str) -> str:
    if not _BUCKET.match(value or ""):
        raise Invalid(tk._("must be an S3 bucket name (3-255 letters, digits, '.', '-' or '_')"))
    return value


def s3multipart_region(value: str) -> str:
    if not _REGION.match(value):
        raise Invalid(tk._("must be a region name like us-east-1"))
    return value


def s3multipart_key_prefix(value: str) -> str:
    # IAM treats * and ? in resource ARNs as wildcards, so the prefix must not hold them.
    value = value.strip("/")
    if len(value.encode()) > 512:  # keys must keep room for ids and names in 1024 bytes
        raise Invalid(tk._("must be at most 512 bytes long"))
    if value and not _KEY_PREFIX.match(value):
        raise Invalid(tk._(
            "must be folder names of letters, digits and . _ - ! ( ) ' separated by '/'"))
    return value


def s3multipart_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value):
        raise Invalid(tk._("must be an http:// or https:// URL"))
    return value


def s3multipart_part_number(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(tk._("Part numbers are whole numbers")) from None
    # Refuses 1.5 (int() would truncate it) and booleans (True == 1).
    exact = not isinstance(value, bool) and str(number) == str(value).strip()
    if not exact or not 1 <= number <= MAX_PART_NUMBER:
        raise Invalid(tk._("Part numbers go from 1 to {}, not {}").format(MAX_PART_NUMBER, value))
    return number


def s3multipart_part_numbers(value: Any) -> list[int]:
    if not isinstance(value, list) or not value:
        raise Invalid(tk._("Give a list of part numbers, like [1, 2, 3]"))
    if len(value) > 1000:
        raise Invalid(tk._("Sign at most 1000 parts per request"))
    return sorted({s3multipart_part_number(v) for v in value})


def s3multipart_parts_listed_once(key: Any, data: dict[Any, Any], errors: dict[Any, Any],
                                  context: dict[str, Any]) -> None:
    """The `parts` of a completion: at least one, each part number once."""
    numbers = sorted((k, value) for k, value in data.items()
                     if len(k) == 3 and k[0] == "parts" and k[2] == "part_number")
    if not numbers and not any(k[0] == "parts" for k in errors if errors[k]):
        errors[("parts",)] = [tk._(
            'Give the uploaded parts as [{"part_number": 1, "etag": "..."}, ...]')]
    seen: set[Any] = set()
    for field, number in numbers:
        if number in seen:
            errors.setdefault(field, []).append(tk._("Part {} is listed twice").format(number))
        seen.add(number)


def s3multipart_size(value: Any) -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise Invalid(tk._("Size is the file's length in bytes")) from None
    if isinstance(value, bool) or str(size) != str(value).strip():
        raise Invalid(tk._("Size is the file's length in bytes, a whole number"))
    if size < 0:
        raise Invalid(tk._("Size must be 0 or more bytes"))
    return size
