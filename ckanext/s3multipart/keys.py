"""The object key layout, in one place.

    [<s3_prefix>/]<owner_org id>/<dataset id>/<upload segment>/<safe file name>

The upload segment is fresh for every upload, so no upload can overwrite another's
object. It carries an HMAC of the dataset id made with CKAN's secret, so the server can
later recognise a prefix it issued for this dataset (credential refresh, resume) without
storing anything.

A batch (many files or a folder uploaded at once) shares one segment, issued to one user,
whose HMAC covers that user's id too; its files keep their relative paths below it:

    [<s3_prefix>/]<owner_org id>/<dataset id>/<batch segment>/<safe relative path>
"""
from __future__ import annotations

import hashlib
import hmac
import posixpath
import re
import secrets
import unicodedata

from . import config
from .folders import relative_path
from .limits import MAX_KEY_BYTES

_SEGMENT = re.compile(r"^([0-9a-f]{16})([0-9a-f]{16})$")
# Keeps an extension like ".tar.gz" or ".csv" when a long name is shortened.
_EXTENSION = re.compile(r"(\.[0-9A-Za-z]{1,10}){1,2}$")


# Room any key must leave for its file name; the site prefix is limited so it always does.
MIN_NAME_BYTES = 64


class UnsafeFileName(ValueError):
    """The file name has nothing left once made safe."""


class FoldersTooLong(UnsafeFileName):
    """A batch file's folders leave its name too little room within S3's 1024-byte keys."""


class PrefixTooLong(ValueError):
    """The key prefix leaves no room for a file name within S3's 1024-byte keys."""


def dataset_prefix(org_id: str, dataset_id: str) -> str:
    """Prefix of every object of one dataset, ending in `/`."""
    parts = [config.site_prefix(), org_id, dataset_id]
    return "/".join(p for p in parts if p) + "/"


def _signature(dataset_id: str, nonce: str, user_id: str | None = None) -> str:
    # A batch's message has three parts, an upload's two: neither passes for the other.
    message = f"{dataset_id}/{nonce}" if user_id is None else f"{dataset_id}/{user_id}/{nonce}"
    mac = hmac.new(config.signing_secret(), message.encode(), hashlib.sha256)
    return mac.hexdigest()[:16]


def new_upload_prefix(org_id: str, dataset_id: str) -> str:
    """A fresh upload prefix inside the dataset's prefix, ending in `/`."""
    nonce = secrets.token_hex(8)
    return f"{dataset_prefix(org_id, dataset_id)}{nonce}{_signature(dataset_id, nonce)}/"


def new_batch_prefix(org_id: str, dataset_id: str, user_id: str) -> str:
    """A fresh prefix for one user's batch of files inside the dataset's prefix."""
    nonce = secrets.token_hex(8)
    return f"{dataset_prefix(org_id, dataset_id)}{nonce}{_signature(dataset_id, nonce, user_id)}/"


def is_upload_prefix(prefix: str, org_id: str, dataset_id: str) -> bool:
    """True if `prefix` is an upload prefix this site issued for this dataset."""
    return _issued(prefix, org_id, dataset_id, None)


def is_batch_prefix(prefix: str, org_id: str, dataset_id: str, user_id: str) -> bool:
    """True if `prefix` is a batch prefix this site issued to this user for this dataset."""
    return _issued(prefix, org_id, dataset_id, user_id)


def _issued(prefix: str, org_id: str, dataset_id: str, user_id: str | None) -> bool:
    base = dataset_prefix(org_id, dataset_id)
    if not prefix.startswith(base) or not prefix.endswith("/"):
        return False
    match = _SEGMENT.match(prefix[len(base):-1])
    return bool(match) and hmac.compare_digest(
        match.group(2), _signature(dataset_id, match.group(1), user_id)
    )


def upload_prefix_of(key: str) -> str:
    """The folder a key lives in, ending in `/`."""
    return key.rsplit("/", 1)[0] + "/"


def in_dataset(key: str, org_id: str, dataset_id: str) -> bool:
    """True if `key` names an object below the dataset's prefix (at any depth)."""
    base = dataset_prefix(org_id, dataset_id)
    rest = key[len(base):] if key.startswith(base) else ""
    return bool(rest) and not rest.endswith("/") and all(
        segment not in ("", ".", "..") for segment in rest.split("/")
    )


def site_root() -> str:
    """Where this site's objects live: `<s3_prefix>/`, or the whole bucket ("")."""
    return config.site_prefix() + "/" if config.site_prefix() else ""


def dataset_of(key: str) -> tuple[str, str] | None:
    """(organization id, dataset id) of a key of this site in the layout, None for keys
    outside it."""
    root = site_root()
    if not key.startswith(root):
        return None
    segments = key[len(root):].split("/")
    return (segments[0], segments[1]) if len(segments) >= 3 and all(segments[:2]) else None


def file_name(key: str) -> str:
    return posixpath.basename(key)


def safe_file_name(name: str, max_bytes: int = 255) -> str:
    """The user's file name made safe as the last segment of a key.

    Keeps the name readable (unicode allowed) but it can never leave its folder: path
    separators become `_`, control characters go, leading dots and spaces go, and the
    name is shortened (keeping its extension) to fit `max_bytes` of UTF-8.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("/", "_").replace("\\", "_")
    name = "".join(
        ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Cs")
    )
    name = name.strip().lstrip(". ")
    if not name:
        raise UnsafeFileName(name)
    if len(name.encode()) <= max_bytes:
        return name
    match = _EXTENSION.search(name)
    # Keep the extension only while it leaves most of the room to the name itself.
    extension = match.group(0) if match and len(match.group(0)) * 2 < max_bytes else ""
    stem = name[: len(name) - len(extension)]
    budget = max_bytes - len(extension.encode())
    stem = stem.encode()[:budget].decode(errors="ignore").rstrip()
    if not stem.strip(". "):
        raise UnsafeFileName(name)
    return stem + extension


def object_key(prefix: str, file_name: str) -> str:
    """Key of an upload's object: its prefix plus the safe file name, within 1024 bytes."""
    room = min(255, MAX_KEY_BYTES - len(prefix.encode()))
    if room < MIN_NAME_BYTES:
        raise PrefixTooLong(prefix)
    return prefix + safe_file_name(file_name, room)


def batch_key(prefix: str, name: str) -> str:
    """Key of a batch's file: the prefix plus its relative path, each folder and the file
    name made safe (`safe_file_name`), within 1024 bytes; folders that leave the file
    name too little room are FoldersTooLong."""
    segments = relative_path(name).split("/")
    folders = [safe_file_name(segment) for segment in segments[:-1]
               if segment.strip().lstrip(". ")]
    folder_prefix = prefix + "".join(folder + "/" for folder in folders)
    room = min(255, MAX_KEY_BYTES - len(folder_prefix.encode()))
    if room < MIN_NAME_BYTES:
        if MAX_KEY_BYTES - len(prefix.encode()) < MIN_NAME_BYTES:
            raise PrefixTooLong(prefix)
        raise FoldersTooLong(name)
    return folder_prefix + safe_file_name(segments[-1], room)
