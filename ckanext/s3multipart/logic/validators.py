"""Validators of the actions' input schemas."""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import ckan.plugins.toolkit as tk

from ..folders import KEYS_PER_CALL, RESOURCES_PER_CALL

__all__ = [
    "s3multipart_batch_files",
    "s3multipart_batch_resources",
    "s3multipart_content_md5",
    "s3multipart_no_control_characters",
    "s3multipart_part_number",
    "s3multipart_part_numbers",
    "s3multipart_parts_listed_once",
    "s3multipart_parts_to_sign",
    "s3multipart_size",
]

Invalid = tk.Invalid

MAX_PART_NUMBER = 10_000
MAX_SIGNED_PARTS = 1000  # per sign request: bounds the work of one web request
# C0 controls and DEL: never part of an id, key or media type, and PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control_characters(*texts: str | None) -> bool:
    return any(text and _CONTROL.search(text) for text in texts)


def s3multipart_no_control_characters(value: Any) -> Any:
    if isinstance(value, str) and has_control_characters(value):
        raise Invalid(tk._("Must not contain control characters (such as NUL or newlines)"))
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
    if len(value) > MAX_SIGNED_PARTS:
        raise Invalid(tk._("Sign at most {} parts per request").format(MAX_SIGNED_PARTS))
    return sorted({s3multipart_part_number(v) for v in value})


_BASE64_MD5 = re.compile(r"[A-Za-z0-9+/]{22}==")


def s3multipart_content_md5(value: Any) -> str:
    """A Content-MD5 header's value: the base64 of a 16-byte MD5, 24 characters."""
    try:
        ok = (isinstance(value, str) and bool(_BASE64_MD5.fullmatch(value))
              and len(base64.b64decode(value, validate=True)) == 16)
    except binascii.Error:
        ok = False
    if not ok:
        raise Invalid(tk._("Give the part's content_md5 as the base64 of its MD5: 24 "
                           "characters, like 1B2M2Y8AsgTpgAmY7PhCfg=="))
    return value


def _listed_parts(data: dict[Any, Any], errors: dict[Any, Any],
                  missing: str) -> list[tuple[Any, Any]]:
    """The part numbers of `parts`, each once (else an error on the repeat), or the error
    `missing` when there are none and no other error explains why."""
    numbers = sorted((k, value) for k, value in data.items()
                     if len(k) == 3 and k[0] == "parts" and k[2] == "part_number")
    if not numbers and not any(k[0] == "parts" for k in errors if errors[k]):
        errors[("parts",)] = [missing]
    seen: set[Any] = set()
    for field, number in numbers:
        if number in seen:
            errors.setdefault(field, []).append(tk._("Part {} is listed twice").format(number))
        seen.add(number)
    return numbers


def s3multipart_parts_listed_once(key: Any, data: dict[Any, Any], errors: dict[Any, Any],
                                  context: dict[str, Any]) -> None:
    """The `parts` of a completion: at least one, each part number once."""
    _listed_parts(data, errors, tk._(
        'Give the uploaded parts as [{"part_number": 1, "etag": "..."}, ...]'))


def s3multipart_parts_to_sign(key: Any, data: dict[Any, Any], errors: dict[Any, Any],
                              context: dict[str, Any]) -> None:
    """The parts of a sign request: `parts` (each once, at most MAX_SIGNED_PARTS), or the
    `part_numbers` of a client that sends no Content-MD5; not both."""
    # Errors go on fields navl has (("parts",) is not one once `parts` has items).
    if ("part_numbers",) in data or errors.get(("part_numbers",)):
        if any(k[0] == "parts" for k in data):
            errors.setdefault(("part_numbers",), []).append(
                tk._("Give parts or part_numbers, not both"))
        return
    numbers = _listed_parts(data, errors, tk._(
        'Give the parts to sign as [{"part_number": 1, "content_md5": "<base64 of the '
        "part's MD5>\"}, ...]"))
    if len(numbers) > MAX_SIGNED_PARTS:
        errors.setdefault(numbers[MAX_SIGNED_PARTS][0], []).append(
            tk._("Sign at most {} parts per request").format(MAX_SIGNED_PARTS))


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


def _items(data: dict[Any, Any], errors: dict[Any, Any], field: str, item_key: str,
           most: int, missing: str, too_many: str) -> None:
    """At least one and at most `most` items in the list `field` (each an object that
    has `item_key`), else an error on a field navl has."""
    items = sorted(k for k in data if len(k) == 3 and k[0] == field and k[2] == item_key)
    if not items and not any(k[0] == field for k in errors if errors[k]):
        errors[(field,)] = [missing]
    if len(items) > most:
        errors.setdefault(items[most], []).append(too_many.format(most))


def s3multipart_batch_files(key: Any, data: dict[Any, Any], errors: dict[Any, Any],
                            context: dict[str, Any]) -> None:
    """The `files` of a batch_keys request: 1 to folders.KEYS_PER_CALL."""
    _items(data, errors, "files", "name", KEYS_PER_CALL,
           tk._('Give the files as [{"name": "folder/file.csv", "size": 1024}, ...]'),
           tk._("Ask for at most {} files per request"))


def s3multipart_batch_resources(key: Any, data: dict[Any, Any], errors: dict[Any, Any],
                                context: dict[str, Any]) -> None:
    """The `resources` of a resources_create request: 1 to folders.RESOURCES_PER_CALL."""
    _items(data, errors, "resources", "s3_key", RESOURCES_PER_CALL,
           tk._('Give the resources as [{"s3_key": "...", "name": "folder/file.csv", '
                '"hash": "<SHA-256>"}, ...]'),
           tk._("Create at most {} resources per request"))
