"""Resources that point at S3 objects through `s3_key`.

On create and update, a new or changed `s3_key` must lie under the dataset's prefix
and exist; `size` and `mimetype` then come from the store, never from the client, and a
`hash` the client gives is its claim (lowercase SHA-256), checked later by the
verification job (verification.py).
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import config, keys, limits, media_types, storage, upload_field
from .checksums import HASH_ALGORITHM


def _stored_keys(package_id: str | None) -> dict[str, dict[str, Any]]:
    package = model.Package.get(package_id) if package_id else None
    if package is None:
        return {}
    return {r.id: {"s3_key": r.extras.get("s3_key"), "size": r.size, "mimetype": r.mimetype,
                   "hash": r.hash or ""}
            for r in package.resources if r.extras.get("s3_key")}


def _error(index: int, total: int, message: str, field: str = "s3_key") -> tk.ValidationError:
    # Same shape as CKAN's own resource errors: one dict per resource, in order.
    errors: list[dict[str, Any]] = [{} for _ in range(total)]
    errors[index] = {field: [message]}
    return tk.ValidationError({"resources": errors})


def _claimed_hash(resource: dict[str, Any], previous: dict[str, Any] | None) -> str | None:
    """The SHA-256 a client claims for a new object, lowercase; "" for none. None when
    it is no SHA-256 (the message is then the caller's). A hash carried over from the
    previous object (resource_patch keeps every field) is that object's, not this one's."""
    claim = resource.get("hash")
    if not isinstance(claim, str) or not claim.strip():
        return ""
    if previous and claim == previous["hash"]:
        return ""
    algorithm = resource.get("hash_algorithm") or HASH_ALGORITHM
    claim = claim.strip().lower()
    if algorithm.lower() != HASH_ALGORITHM:
        return claim  # another algorithm: kept as given, verified by nothing here
    if len(claim) != 64 or any(c not in "0123456789abcdef" for c in claim):
        return None
    return claim


def check(data_dict: dict[str, Any], checked: Collection[str] = ()) -> None:
    """Check and complete the `s3_key` resources of a dataset dict about to be saved.
    Resources whose key is in `checked` were checked and completed by this request
    already (resource_batches), and are left as they are."""
    resources = data_dict.get("resources") or []
    if not any(isinstance(r, dict) and r.get("s3_key") for r in resources):
        return
    package = model.Package.get(data_dict.get("id") or data_dict.get("name") or "")
    org_id = data_dict.get("owner_org") or (package.owner_org if package else None)
    org = model.Group.get(org_id) if org_id else None
    stored = _stored_keys(package.id if package else None)
    for index, resource in enumerate(resources):
        key = resource.get("s3_key") if isinstance(resource, dict) else None
        if not key:
            continue
        if not isinstance(key, str):
            raise _error(index, len(resources), tk._(
                "s3_key must be the object's key, a string like '{}'").format(
                    "<organization id>/<dataset id>/<upload>/<file name>"))
        if key in checked:
            continue
        if upload_field.is_pending(key):
            # A file from the upload field, checked by the uploader and written after
            # validation: there is no object to look at yet.
            continue
        previous = stored.get(resource.get("id") or "")
        if previous and previous["s3_key"] == key and resource.get("url_type") == "":
            # Turned into a link or "no data": the resource form posts its hidden s3_key
            # whatever is chosen, so an unchanged key with url_type "" means "leave it".
            del resource["s3_key"]
            continue
        if previous and previous["s3_key"] == key:
            # Unchanged object: keep what the store said when it was attached.
            resource.update(size=previous["size"], mimetype=previous["mimetype"], url_type="upload")
            continue
        if resource.get("url_type") not in (None, "", "upload"):
            raise _error(index, len(resources), tk._("s3_key needs url_type 'upload'"))
        if package is None or org is None or not keys.in_dataset(key, org.id, package.id):
            prefix = keys.dataset_prefix(org.id, package.id) if package and org else None
            raise _error(index, len(resources), tk._(
                "Key '{}' is not inside this dataset's prefix '{}'").format(
                    key, prefix or "(none)"))
        head = storage.head(key)
        if head is None:
            raise _error(index, len(resources), tk._(
                "No object '{}' in bucket '{}'; finish the upload first").format(
                    key, config.bucket()))
        problem = limits.too_large(head["ContentLength"], config.max_size(), "The object")
        if problem:
            raise _error(index, len(resources), problem)
        claim = _claimed_hash(resource, previous)
        if claim is None:
            raise _error(index, len(resources), tk._(
                "hash must be the file's SHA-256 as 64 hexadecimal digits (or give its "
                "hash_algorithm)"), "hash")
        if claim or previous:
            resource["hash"] = claim
            if claim and not resource.get("hash_algorithm"):
                resource["hash_algorithm"] = HASH_ALGORITHM
            elif not claim:
                resource.pop("hash_algorithm", None)
        name = keys.file_name(key)
        resource.update(url_type="upload", url=name, size=head["ContentLength"],
                        mimetype=head.get("ContentType") or media_types.guess(name))
        if not resource.get("format"):
            resource["format"] = _guess_format(name)
        if not resource.get("name"):
            resource["name"] = name


def _guess_format(name: str) -> str:
    # The guess CKAN's if_empty_guess_format makes, which it does on create only.
    mimetype = media_types.guess(name)
    return tk.h.unified_resource_format(mimetype) if mimetype else ""
