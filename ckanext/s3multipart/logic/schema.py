"""navl schemas of the actions' input."""
from __future__ import annotations

from typing import Any

from ckan.logic.schema import validator_args

Schema = dict[str, Any]


@validator_args
def _name(unicode_safe, s3multipart_no_control_characters) -> list[Any]:
    """An id, key or prefix: text without control characters."""
    return [unicode_safe, s3multipart_no_control_characters]


@validator_args
def dataset(not_empty) -> Schema:
    return {"id": [not_empty, *_name()]}


@validator_args
def credentials(not_empty, ignore_missing, unicode_safe) -> Schema:
    return {"id": [not_empty, *_name()], "prefix": [ignore_missing, *_name()],
            "resource_id": [ignore_missing, *_name()],
            "filename": [ignore_missing, unicode_safe],
            "content_type": [ignore_missing, unicode_safe]}


@validator_args
def presigned_post(not_empty, unicode_safe) -> Schema:
    return {"id": [not_empty, *_name()], "filename": [not_empty, unicode_safe]}


@validator_args
def upload_start(not_empty, not_missing, ignore_missing, unicode_safe, s3multipart_size) -> Schema:
    return {"id": [not_empty, *_name()], "filename": [not_empty, unicode_safe],
            "size": [not_missing, s3multipart_size],
            "content_type": [ignore_missing, unicode_safe],
            "resource_id": [ignore_missing, *_name()],
            "prefix": [ignore_missing, *_name()]}


@validator_args
def batch_keys(not_empty, not_missing, ignore_missing, ignore, unicode_safe, s3multipart_size,
               s3multipart_batch_files) -> Schema:
    return {"id": [not_empty, *_name()], "prefix": [ignore_missing, *_name()],
            "files": {"name": [not_empty, unicode_safe, *_name()],
                      "size": [not_missing, s3multipart_size],
                      "content_type": [ignore_missing, unicode_safe], "__extras": [ignore]},
            "__after": [s3multipart_batch_files]}


@validator_args
def resources_create(not_empty, ignore_missing, ignore, keep_extras, unicode_safe,
                     s3multipart_batch_resources) -> Schema:
    # Each resource as resource_create takes it, with an s3_key; CKAN's own schema then
    # validates the rest when the dataset is saved. New resources: an id (which would
    # update that resource) or another dataset's package_id is dropped.
    return {"id": [not_empty, *_name()],
            "resources": {"s3_key": [not_empty, *_name()],
                          "name": [ignore_missing, unicode_safe],
                          "hash": [ignore_missing, unicode_safe],
                          "hash_algorithm": [ignore_missing, unicode_safe],
                          "id": [ignore], "package_id": [ignore],
                          "__extras": [keep_extras]},
            "__after": [s3multipart_batch_resources]}


@validator_args
def upload(not_empty) -> Schema:
    return {"id": [not_empty, *_name()], "key": [not_empty, *_name()],
            "upload_id": [not_empty, *_name()]}


@validator_args
def upload_sign(ignore_missing, not_missing, ignore, s3multipart_part_number,
                s3multipart_part_numbers, s3multipart_content_md5,
                s3multipart_parts_to_sign) -> Schema:
    # `parts` (with each part's Content-MD5) or, from older clients, `part_numbers`.
    return {**upload(), "part_numbers": [ignore_missing, s3multipart_part_numbers],
            "parts": {"part_number": [not_missing, s3multipart_part_number],
                      "content_md5": [s3multipart_content_md5], "__extras": [ignore]},
            "__after": [s3multipart_parts_to_sign]}


@validator_args
def upload_complete(not_missing, not_empty, unicode_safe, ignore,
                    s3multipart_part_number, s3multipart_parts_listed_once) -> Schema:
    return {**upload(),
            "parts": {"part_number": [not_missing, s3multipart_part_number],
                      "etag": [not_empty, unicode_safe], "__extras": [ignore]},
            "__after": [s3multipart_parts_listed_once]}


@validator_args
def download_stats(not_empty) -> Schema:
    return {"id": [not_empty, *_name()]}
