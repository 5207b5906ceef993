"""The extension's actions: validate, check access, one call into `grants`, return."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
import flask
from ckan.lib.navl.dictization_functions import DataError
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError as CSRFError

from .. import authz, downloads, grants, resource_batches, resource_keys, storage, verification
from . import schema

__all__ = [
    "s3multipart_credentials",
    "s3multipart_presigned_post",
    "s3multipart_upload_start",
    "s3multipart_upload_sign",
    "s3multipart_upload_list_parts",
    "s3multipart_upload_complete",
    "s3multipart_upload_abort",
    "s3multipart_batch_keys",
    "s3multipart_resources_create",
    "s3multipart_download_stats",
    "package_create",
    "package_update",
]

Action = Callable[[dict[str, Any], dict[str, Any]], Any]


def _action(input_schema: Callable[[], dict[str, Any]],
            malformed: dict[str, list[str]] | None = None,
            ) -> Callable[[Callable[..., Any]], Action]:
    """Validate against the schema, check the same-named auth, and pass the dataset on.

    S3 and STS failures become a 409 whose message says what failed, never a 500.
    """
    def decorate(work: Callable[..., Any]) -> Action:
        @functools.wraps(work)
        def action(context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
            try:
                data, errors = tk.navl_validate(_object(data_dict), input_schema(), context)
            except DataError as e:  # e.g. a string where a list of objects belongs
                raise tk.ValidationError(malformed or {"input": [str(e)]}) from None
            if errors:
                raise tk.ValidationError(errors)
            _require_csrf_token()
            tk.check_access(work.__name__, context, data)
            package = authz.uploadable_dataset(data["id"])
            try:
                return work(context, data, package)
            except storage.StorageError as e:
                raise tk.ValidationError({"storage": [str(e)]}) from None
        return action
    return decorate


def _object(data_dict: Any) -> dict[str, Any]:
    """The parameters as a dict; CKAN passes on a JSON body that is a string or a list."""
    if data_dict is None:
        return {}
    if not isinstance(data_dict, dict):
        raise tk.ValidationError({"input": [tk._(
            'Send the parameters as a JSON object, like {"id": "my-dataset"}')]})
    return dict(data_dict)


def _require_csrf_token() -> None:
    """A browser's cookie-authenticated POST must carry CKAN's CSRF token.

    CKAN checks this before the action runs, but CKAN 2.12.0 can exempt a view for the
    whole process once one API-token request reached it; these actions hand out upload
    rights, so they check again. Token-authenticated calls (scripts) need no token.
    """
    if not flask.has_request_context() or flask.request.method != "POST":
        return
    if flask.g.get("login_via_auth_header") or not tk.current_user.is_authenticated:
        return
    token = (flask.request.headers.get("X-CSRFToken")
             or flask.request.headers.get("X-CSRF-Token"))
    try:
        validate_csrf(token)
    except CSRFError:
        raise tk.NotAuthorized(tk._(
            "The CSRF token is missing or invalid; reload the page and try again")) from None


def _user(context: dict[str, Any]) -> str:
    return context.get("user") or ""


@_action(schema.credentials)
def s3multipart_credentials(context, data, package):
    """Temporary S3 credentials (STS mode) that may upload only under one new key prefix.

    :param id: the dataset's id or name
    :param prefix: (optional) an upload prefix issued earlier for this dataset, to refresh
        credentials or resume that upload
    :param resource_id: (optional) the resource whose file is being replaced
    :param filename: (optional) the file's name; the answer then has the object's ``key``
        and the ``content_type`` to create it with
    :param content_type: (optional) the file's media type as the uploader knows it; else
        the file name's guess, else application/octet-stream
    :returns: ``credentials`` (AccessKeyId, SecretAccessKey, SessionToken, Expiration),
        ``bucket``, ``region``, ``endpoint_url``, ``prefix``, ``part_size``,
        ``concurrency``, ``max_size``, ``metadata``
    """
    return grants.sts_credentials(package, _user(context), data.get("prefix"),
                                   data.get("resource_id"), data.get("filename"),
                                   data.get("content_type"))


@_action(schema.presigned_post)
def s3multipart_presigned_post(context, data, package):
    """A presigned POST for a single-request upload (up to 5 GB) of one file.

    :param id: the dataset's id or name
    :param filename: the file's name
    :returns: ``url``, ``fields``, ``key``, ``expires_in``, ``curl_example``
    """
    return grants.presigned_post(package, _user(context), data["filename"])


@_action(schema.upload_start)
def s3multipart_upload_start(context, data, package):
    """Start a multipart upload whose parts go to presigned URLs (presigned mode).

    :param id: the dataset's id or name
    :param filename: the file's name
    :param size: the file's size in bytes
    :param content_type: (optional) the file's media type
    :param resource_id: (optional) the resource whose file is being replaced
    :param prefix: (optional) a batch prefix from ``s3multipart_batch_keys``: the file
        (``filename`` its relative path) goes to its place in that batch
    :returns: ``upload_id``, ``key``, ``part_size``, ``part_count``
    """
    return grants.start(package, _user(context), data["filename"], data["size"],
                         data.get("content_type"), data.get("resource_id"),
                         data.get("prefix"))


@_action(schema.upload_sign, malformed={"parts": [
    'Give the parts to sign as a list of objects: '
    '[{"part_number": 1, "content_md5": "<base64 of the part\'s MD5>"}, ...]']})
def s3multipart_upload_sign(context, data, package):
    """Presigned UploadPart URLs for some parts of an upload (at most 1,000 per call).

    :param id: the dataset's id or name
    :param key: the upload's key
    :param upload_id: the upload's id
    :param parts: list of ``{part_number, content_md5}``: the part number (1 to 10,000)
        and the base64 of the part's MD5. Each URL is signed for that Content-MD5: the PUT
        must send it as its ``Content-MD5`` header, and the store refuses other bytes
    :param part_numbers: (deprecated, instead of ``parts``) list of part numbers, for
        clients that send no Content-MD5; their URLs take any bytes
    :returns: ``urls``, {part number: URL}, and ``expires_in`` (seconds)
    """
    parts = ({p["part_number"]: p["content_md5"] for p in data["parts"]} if data.get("parts")
             else dict.fromkeys(data["part_numbers"]))
    return grants.sign(package, data["key"], data["upload_id"], parts)


@_action(schema.upload)
def s3multipart_upload_list_parts(context, data, package):
    """The parts S3 already holds for an upload (to resume it).

    :param id: the dataset's id or name
    :param key: the upload's key
    :param upload_id: the upload's id
    :returns: ``parts``, [{part_number, etag, size}]
    """
    return grants.list_parts(package, data["key"], data["upload_id"])


@_action(schema.upload_complete, malformed={"parts": [
    'Give the uploaded parts as a list of objects: [{"part_number": 1, "etag": "..."}, ...]']})
def s3multipart_upload_complete(context, data, package):
    """Complete a multipart upload from its parts.

    :param id: the dataset's id or name
    :param key: the upload's key
    :param upload_id: the upload's id
    :param parts: [{part_number, etag}]
    :returns: ``key``, ``size``, ``etag``
    """
    return grants.complete(package, data["key"], data["upload_id"], data["parts"])


@_action(schema.upload)
def s3multipart_upload_abort(context, data, package):
    """Abort a multipart upload; S3 drops the parts it holds.

    :param id: the dataset's id or name
    :param key: the upload's key
    :param upload_id: the upload's id
    """
    grants.abort(package, data["key"], data["upload_id"])


@_action(schema.batch_keys, malformed={"files": [
    'Give the files as a list of objects: [{"name": "folder/file.csv", "size": 1024}, ...]']})
def s3multipart_batch_keys(context, data, package):
    """Where the files of a batch (many files or a folder) go: one prefix for the batch,
    issued to the caller, with each file's key below it (at most 1,000 files per call).

    Nothing is written. In STS mode, ``s3multipart_credentials`` with the ``prefix`` then
    gives credentials for the whole batch (again after they expire, to the same user
    only); in presigned mode ``s3multipart_upload_start`` with the ``prefix`` starts each
    file's upload. Finished files become resources with ``s3multipart_resources_create``.

    :param id: the dataset's id or name
    :param prefix: (optional) the batch's prefix, for its further files; without it a new
        batch starts
    :param files: list of ``{name, size, content_type}``: the file's path relative to the
        folder chosen (``survey/2024/01/day.csv``), its size in bytes and (optional) its
        media type
    :returns: ``prefix``, ``files`` (in the order given: ``{name, key, content_type,
        part_size, part_count}``, or ``{name, error}`` for a file that cannot be stored),
        ``mode``, ``files_concurrency``, ``concurrency``, ``max_size``
    """
    return grants.batch_keys(package, _user(context), data.get("prefix"), data["files"])


@_action(schema.resources_create, malformed={"resources": [
    'Give the resources as a list of objects: [{"s3_key": "...", "name": "..."}, ...]']})
def s3multipart_resources_create(context, data, package):
    """Create resources of the dataset from uploaded objects, up to 100 in one call (one
    dataset save instead of one per resource).

    Each resource is what ``resource_create`` takes, with an ``s3_key``: its key is
    checked and its ``size`` and ``mimetype`` taken from the store as there. A resource
    that cannot be made is reported and the others are made; one whose ``s3_key`` the
    dataset already has is reported as present and not made again.

    :param id: the dataset's id or name
    :param resources: list of resource dicts, each with ``s3_key`` and usually ``name``,
        ``hash`` (the file's SHA-256) and ``hash_algorithm``
    :returns: ``resources``, in the order given: ``{s3_key, name, id, state}`` with state
        ``created`` or ``present``, or ``{s3_key, name, error}``
    """
    return resource_batches.create(context, package.id, data["resources"])


@tk.chained_action
def package_create(up_func, context, data_dict):
    _check_resources("package_create", context, data_dict)
    result = up_func(context, data_dict)
    _schedule_verification(context)
    return result


@tk.chained_action
def package_update(up_func, context, data_dict):
    _check_resources("package_update", context, data_dict)
    result = up_func(context, data_dict)
    _schedule_verification(context)
    return result


def _schedule_verification(context: dict[str, Any]) -> None:
    # CKAN's actions leave the saved dataset in the context, and have committed it unless
    # their caller defers the commit (resource_create does): the job may only run after.
    package = context.get("package")
    if package is not None:
        verification.schedule(package.id, committed=not context.get("defer_commit"))


def _check_resources(action: str, context: dict[str, Any], data_dict: dict[str, Any]) -> None:
    """Verify new `s3_key`s (resource_create/update and package_patch end up here too)."""
    for resource in data_dict.get("resources") or []:
        if isinstance(resource, dict):
            # What resource_show adds is the record's, never the resource's: a show-edit-
            # update round trip (resource_patch) must not store it as an extra.
            resource.pop("s3_verification", None)
    if not any(isinstance(r, dict) and r.get("s3_key") for r in data_dict.get("resources") or []):
        return
    # Auth first, so that nobody learns from the answer which objects exist.
    tk.check_access(action, dict(context), data_dict)
    try:
        resource_keys.check(data_dict, context.get(resource_batches.CHECKED, ()))
    except storage.StorageError as e:
        raise tk.ValidationError({"storage": [str(e)]}) from None


@tk.side_effect_free  # a read: GET /api/3/action/s3multipart_download_stats?id=... works
def s3multipart_download_stats(context: dict[str, Any],
                               data_dict: dict[str, Any]) -> dict[str, Any]:
    """Downloads of a resource through its persistent link (/download), per UTC day.

    :param id: the resource's id
    :returns: ``resource_id``, ``total``, ``days`` [{``date`` (YYYY-MM-DD), ``count``}],
        oldest day first; days without downloads are left out
    """
    try:
        data, errors = tk.navl_validate(_object(data_dict), schema.download_stats(), context)
    except DataError as e:
        raise tk.ValidationError({"input": [str(e)]}) from None
    if errors:
        raise tk.ValidationError(errors)
    tk.check_access("s3multipart_download_stats", context, data)
    try:
        return downloads.stats(data["id"])
    except downloads.StatsUnavailable:
        raise tk.ValidationError({"stats": [tk._(
            "Download counts are unavailable; ask a sysadmin to run "
            "`ckan db upgrade -p s3multipart` (see the CKAN log)")]}) from None
