"""Issuing upload permission for one dataset: STS credentials, presigned POSTs and the
presigned multipart flow. Callers have already checked `authz.upload_allowed`."""
from __future__ import annotations

import re
import shlex
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import config, credentials, folders, keys, limits, media_types, parts, storage

_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+\"-]+)*$")


def _invalid(field: str, message: str) -> tk.ValidationError:
    return tk.ValidationError({field: [message]})


def metadata(package: model.Package, user_name: str,
             resource_id: str | None = None) -> dict[str, str]:
    """Object metadata (sent as x-amz-meta-*) recording who uploaded what for which dataset."""
    meta = {"ckan-site-id": config.site_id(), "ckan-user": user_name,
            "ckan-package-id": package.id}
    if resource_id:
        meta["ckan-resource-id"] = resource_id
    return meta


def new_key(package: model.Package, filename: str, field: str = "filename") -> str:
    """The key a new upload of `filename` to `package` gets: the one place every way in
    (actions, the Upload field, `ckan s3multipart migrate`) picks keys. A name with nothing
    usable in it is a ValidationError under `field`, the form's or the API's name for it."""
    return _key_under(keys.new_upload_prefix(package.owner_org, package.id), filename, field)


def _key_under(prefix: str, filename: str, field: str = "filename", batch: bool = False) -> str:
    try:
        return keys.batch_key(prefix, filename) if batch else keys.object_key(prefix, filename)
    except keys.FoldersTooLong:
        raise _invalid(field, tk._(
            "The folders of '{}' are too long to leave room for its name within S3's "
            "1024-byte keys; move the file up").format(filename)) from None
    except keys.UnsafeFileName:
        raise _invalid(field, tk._(
            "File name '{}' has no usable characters; rename the file").format(filename)) from None
    except keys.PrefixTooLong:
        raise _invalid("config", tk._(
            "ckanext.s3multipart.s3_prefix is too long to leave room for file names within "
            "S3's 1024-byte keys; ask a sysadmin to shorten it")) from None


def user_id(user_name: str) -> str:
    """The id of the user called `user_name` (batch prefixes are issued to an id: names
    can change)."""
    user = model.User.get(user_name) if user_name else None
    if user is None:
        raise tk.NotAuthorized(tk._("Log in to upload files"))
    return user.id


def check_batch_prefix(package: model.Package, user_name: str, prefix: str) -> None:
    """Refuse a prefix that is not a batch prefix issued to this user for this dataset."""
    if not keys.is_batch_prefix(prefix, package.owner_org, package.id, user_id(user_name)):
        raise _invalid("prefix", tk._(
            "'{}' is not a batch prefix issued to you for dataset '{}'; start a new batch "
            "without a prefix").format(prefix, package.name))


def check_key(package: model.Package, key: str) -> None:
    if not keys.in_dataset(key, package.owner_org, package.id):
        raise _invalid("key", tk._(
            "Key '{}' is not inside dataset '{}' (its keys start with '{}')").format(
            key, package.name, keys.dataset_prefix(package.owner_org, package.id)))


def check_size(size: int, field: str = "size", what: str = "The file") -> None:
    """Refuse a file over the site's `max_size` (`limits.too_large`), under `field`."""
    problem = limits.too_large(size, config.max_size(), what)
    if problem:
        raise _invalid(field, problem)


def content_type(declared: str | None, filename: str) -> str:
    """The Content-Type a new object is stored with (`media_types.content_type`), after
    checking a declared one looks like a media type."""
    if declared and not _CONTENT_TYPE.match(declared):
        raise _invalid("content_type", tk._(
            "'{}' is not a media type like text/csv").format(declared))
    return media_types.content_type(declared, filename)


def check_resource(package: model.Package, resource_id: str | None) -> None:
    if resource_id and resource_id not in {r.id for r in package.resources}:
        raise _invalid("resource_id", tk._("Resource {} is not part of dataset '{}'").format(
            resource_id, package.name))


# STS mode ---------------------------------------------------------------------------

def _require_sts() -> None:
    if config.mode() != "sts":
        raise _invalid("mode", tk._(
            "This site uploads in presigned mode (ckanext.s3multipart.mode, or no s3_role "
            "set); use s3multipart_upload_start instead"))


def sts_credentials(package: model.Package, user_name: str, prefix: str | None,
                    resource_id: str | None = None, filename: str | None = None,
                    declared_type: str | None = None) -> dict[str, Any]:
    """Temporary credentials that may upload only under one upload prefix.

    With `prefix` (one issued earlier for this dataset) the same upload continues after a
    credential refresh or a page reload; a prefix that already holds a finished object is
    refused so that credentials never overwrite an object. A batch prefix (`batch_keys`)
    is taken from the user it was issued to only, finished files and all. With `filename`
    (in a batch: the file's relative path) the answer
    also names the object's `key` (the server owns the safe-file-name rule) and the
    `content_type` to create it with (the declared type, else the name's guess).
    """
    _require_sts()
    check_resource(package, resource_id)
    # A batch's prefix (issued to this user) keeps its finished files beside those still
    # going; an upload's prefix holds one file, so a finished one closes it.
    batch = bool(prefix) and keys.is_batch_prefix(prefix, package.owner_org, package.id,
                                                  user_id(user_name))
    if prefix and not batch:
        if not keys.is_upload_prefix(prefix, package.owner_org, package.id):
            raise _invalid("prefix", tk._(
                "'{}' is not an upload prefix issued for dataset '{}'").format(
                    prefix, package.name))
        if storage.has_objects(prefix):
            raise _invalid("prefix", tk._(
                "The upload under '{}' is already complete; start a new upload").format(prefix))
    elif not prefix:
        prefix = keys.new_upload_prefix(package.owner_org, package.id)
    named = {"key": _key_under(prefix, filename, batch=batch),
             "content_type": content_type(declared_type, filename)} if filename else {}
    answer = credentials.issue(prefix, user_name)
    return {
        **named,
        "credentials": {k: answer["Credentials"][k] for k in
                        ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")},
        "bucket": config.bucket(),
        "region": config.region(),
        "endpoint_url": config.endpoint_url(),
        "addressing_style": config.addressing_style(),
        "prefix": prefix,
        "part_size": config.part_size(),
        "concurrency": config.concurrency(),
        "max_size": config.max_size(),
        "metadata": metadata(package, user_name, resource_id),
        "acl": config.acl(),
    }


def legacy_sts_credentials(package: model.Package, user_name: str) -> dict[str, Any]:
    """The original extension's answer: AssumeRole's shape, scoped to the whole dataset."""
    _require_sts()
    prefix = keys.dataset_prefix(package.owner_org, package.id)
    answer = credentials.issue(prefix, user_name)
    return {"Credentials": answer["Credentials"],
            "AssumedRoleUser": answer["AssumedRoleUser"], "Prefix": prefix}


# Presigned POST -----------------------------------------------------------------------

def presigned_post(package: model.Package, user_name: str, filename: str | None) -> dict[str, Any]:
    """A presigned POST for one single-request upload up to 5 GiB (or max_size).

    Without `filename` the key ends in S3's `${filename}`, as the original extension's
    get_s3_post did, and the uploaded file's own name is used.
    """
    if filename is None:
        key = keys.new_upload_prefix(package.owner_org, package.id) + "${filename}"
        content_type = media_types.OCTET_STREAM
    else:
        key = new_key(package, filename)
        content_type = media_types.content_type(None, filename)
    limit = min(config.max_size(), limits.MAX_POST_SIZE)
    expires = config.credentials_duration()
    fields = {"Content-Type": content_type, **{
        f"x-amz-meta-{name}": value for name, value in metadata(package, user_name).items()}}
    post = storage.presigned_post(key, fields, [["content-length-range", 0, limit]], expires)
    local_file = filename or "FILE"
    curl = ["curl", "--fail", "-X", "POST"]
    for name, value in post["fields"].items():
        # --form-string: values are literal (no @file or <file expansion).
        curl += ["--form-string", f"{name}={value}"]
    # Quoted for curl itself: in -F values a bare `;` or `,` would start curl's options.
    quoted = local_file.replace("\\", "\\\\").replace('"', '\\"')
    curl += ["-F", f'file=@"{quoted}"', post["url"]]
    return {"url": post["url"], "fields": post["fields"], "key": key,
            "expires_in": expires, "max_size": limit,
            "curl_example": " ".join(shlex.quote(part) for part in curl)}


# Presigned multipart -------------------------------------------------------------------

def start(package: model.Package, user_name: str, filename: str, size: int,
          declared_type: str | None, resource_id: str | None,
          prefix: str | None = None) -> dict[str, Any]:
    """Create a multipart upload that the browser fills through presigned part URLs; with
    a batch `prefix`, at the file's place in that batch (`filename` its relative path)."""
    check_size(size)
    check_resource(package, resource_id)
    stored_type = content_type(declared_type, filename)
    if prefix:
        check_batch_prefix(package, user_name, prefix)
        key = _key_under(prefix, filename, batch=True)
        if storage.head(key) is not None:
            raise _invalid("filename", tk._(
                "'{}' is uploaded in this batch already (object '{}')").format(filename, key))
    else:
        key = new_key(package, filename)
    upload_id = storage.create_multipart_upload(
        key, stored_type, metadata(package, user_name, resource_id))
    part_size, part_count = parts.plan(size, config.part_size())
    return {"upload_id": upload_id, "key": key, "part_size": part_size,
            "part_count": part_count, "concurrency": config.concurrency(),
            "content_type": stored_type}


def _check_upload(package: model.Package, key: str, upload_id: str) -> None:
    check_key(package, key)
    if not storage.upload_exists(key, upload_id):
        raise tk.ObjectNotFound(tk._(
            "No multipart upload {} is in progress for key '{}'; it was completed, aborted or "
            "never started").format(upload_id, key))


def sign(package: model.Package, key: str, upload_id: str,
         parts: dict[int, str | None]) -> dict[str, Any]:
    """Presigned PUT URLs for these parts ({part number: its Content-MD5, or None from
    clients that send none}), each signed for its Content-MD5 so it takes no other bytes."""
    _check_upload(package, key, upload_id)
    expires = config.credentials_duration()
    return {"urls": {str(n): storage.presign_part(key, upload_id, n, expires, md5)
                     for n, md5 in sorted(parts.items())},
            "expires_in": expires}


def list_parts(package: model.Package, key: str, upload_id: str) -> dict[str, Any]:
    _check_upload(package, key, upload_id)
    return {"parts": storage.list_parts(key, upload_id)}


def complete(package: model.Package, key: str, upload_id: str,
             part_list: list[dict[str, Any]]) -> dict[str, Any]:
    """Complete the upload, then refuse (and delete) an object over max_size. In a batch,
    where two uploads of one file may have been started, the second to complete is
    aborted rather than replace the first's object (a single upload's key is its own)."""
    _check_upload(package, key, upload_id)
    if not keys.is_upload_prefix(keys.upload_prefix_of(key), package.owner_org, package.id) \
            and storage.head(key) is not None:
        storage.abort_multipart_upload(key, upload_id)
        raise _invalid("key", tk._(
            "'{}' is uploaded already; this second upload of it was aborted").format(key))
    # S3 wants them sorted; some stores (moto) silently corrupt the object otherwise.
    part_list = sorted(part_list, key=lambda p: p["part_number"])
    try:
        storage.complete_multipart_upload(key, upload_id, part_list)
    except storage.StorageError as e:
        if e.code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
            raise _invalid("parts", tk._(
                "S3 refused the part list ({}): every part but the last must be at least 5 MiB "
                "and each ETag must be the one S3 returned for that part").format(e.code)) from None
        raise
    head = storage.head(key) or {}
    size = int(head.get("ContentLength", 0))
    problem = limits.too_large(size, config.max_size(), "The uploaded object")
    if problem:
        storage.delete(key)
        raise _invalid("size", problem + "; it was deleted")
    return {"key": key, "size": size, "etag": head.get("ETag")}


def abort(package: model.Package, key: str, upload_id: str) -> None:
    _check_upload(package, key, upload_id)
    storage.abort_multipart_upload(key, upload_id)


# Batches --------------------------------------------------------------------------------

def batch_keys(package: model.Package, user_name: str, prefix: str | None,
               files: list[dict[str, Any]]) -> dict[str, Any]:
    """The keys of a batch's files below one batch prefix (a fresh one without `prefix`),
    in the order given: {name, key, content_type, part_size, part_count} for each file,
    or {name, error} for one that cannot be stored (no usable name, too large, a second
    file at the same key). Nothing is written: in STS mode the uploader then asks for
    credentials of the prefix, in presigned mode it starts each file's upload."""
    if prefix:
        check_batch_prefix(package, user_name, prefix)
    else:
        prefix = keys.new_batch_prefix(package.owner_org, package.id, user_id(user_name))
    seen: dict[str, str] = {}
    planned = []
    for file in files:
        name = folders.relative_path(file["name"])
        try:
            key = _key_under(prefix, name, "name", batch=True)
            check_size(file["size"], "size", name)
            stored_type = content_type(file.get("content_type"), name)
        except tk.ValidationError as e:
            planned.append({"name": name, "error": _first_message(e)})
            continue
        if key in seen:
            planned.append({"name": name, "error": tk._(
                "'{}' would be stored at the same key as '{}'; rename one of them").format(
                    name, seen[key])})
            continue
        seen[key] = name
        part_size, part_count = parts.plan(file["size"], config.part_size())
        planned.append({"name": name, "key": key, "content_type": stored_type,
                        "part_size": part_size, "part_count": part_count})
    return {"prefix": prefix, "files": planned, "mode": config.mode(),
            "files_concurrency": config.files_concurrency(),
            "concurrency": config.concurrency(), "max_size": config.max_size()}


def _first_message(error: tk.ValidationError) -> str:
    messages = [m for ms in error.error_dict.values() for m in (ms if isinstance(ms, list)
                                                                  else [ms])]
    return str(messages[0]) if messages else str(error)
