"""The one place that talks to S3 and STS: builds boto3 clients from the config,
presigns, and turns botocore failures into messages a person can act on."""
from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from . import checksums, config, parts, retry_policy
from .s3_config import client_config

log = logging.getLogger(__name__)


class StorageError(Exception):
    """S3 or STS failed or refused; the message is safe to show (no secrets)."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


@functools.lru_cache(maxsize=8)
def _client(service: str, endpoint: str | None, region: str, style: str,
            keys: tuple[str, str] | None) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=keys[0] if keys else None,
        aws_secret_access_key=keys[1] if keys else None,
    )
    client = session.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        # On AWS itself (no endpoint) botocore's default checksums stay.
        config=client_config(
            style, checksums_when_required=bool(endpoint),
            signature_version="s3v4" if service == "s3" else None,
            retries=retry_policy.botocore_retries(retry_policy.SERVER_ATTEMPTS),
            connect_timeout=5,
            read_timeout=60,
        ),
    )
    if service == "s3":
        for operation in ("PutObject", "UploadPart"):
            client.meta.events.register(f"before-parameter-build.s3.{operation}",
                                        _add_content_md5)
            client.meta.events.register(f"needs-retry.s3.{operation}", _retry_bad_digest)
    return client


def _retry_bad_digest(response: tuple[Any, dict[str, Any]] | None, attempts: int,
                      **kwargs: Any) -> float | None:
    """Seconds to wait before sending again a body the store refused as not the bytes its
    Content-MD5 names (botocore's own retries leave BadDigest alone); botocore reads the
    body again from its start. None: not this handler's to retry."""
    if response is None:
        return None
    code = response[1].get("Error", {}).get("Code", "")
    if retry_policy.digest_refused(code) and attempts < retry_policy.SERVER_ATTEMPTS:
        log.warning("S3 refused a part as changed on the way (%s); sending it again", code)
        return retry_policy.backoff(attempts)
    return None


def _add_content_md5(params: dict[str, Any], **kwargs: Any) -> None:
    """Give every object and part the server sends (the Upload field, `migrate`, both
    through s3transfer, which has no option for it) a Content-MD5 of its body, so the
    store refuses bytes that changed on the way (BadDigest). s3transfer's bodies are
    seekable chunks of the file; the body is left where it was. Presigning (presign_part)
    has no Body: nothing is added, the URL signs the uploader's own MD5 if it gave one."""
    body = params.get("Body")
    if body is not None and not params.get("ContentMD5"):
        params["ContentMD5"] = checksums.content_md5(body)


def s3() -> Any:
    """A boto3 S3 client for the configured endpoint, region and addressing style."""
    return _client("s3", config.endpoint_url(), config.region(),
                   config.addressing_style(), config.server_keys())


def sts() -> Any:
    return _client("sts", config.sts_endpoint_url(), config.region(), "auto",
                   config.server_keys())


@contextlib.contextmanager
def errors(service: str, operation: str) -> Iterator[None]:
    """Turn botocore exceptions into StorageError with a message naming what failed."""
    try:
        yield
    except ClientError as e:
        err = e.response.get("Error", {})
        code = str(err.get("Code") or e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
        log.warning("%s %s refused: %s %s", service, operation, code, err.get("Message"))
        why = (" (the bytes it received differ from those sent: the network changed them; "
               "try again)") if code == "BadDigest" else ""
        raise StorageError(f"{service} refused {operation}: {code}{why}", code) from None
    except EndpointConnectionError:
        endpoint = config.sts_endpoint_url() if service == "STS" else config.endpoint_url()
        log.warning("%s %s: cannot connect to %s", service, operation, endpoint or "AWS")
        raise StorageError(
            f"{service} is unreachable ({operation} could not connect to "
            f"{endpoint or 'AWS'}); ask a sysadmin to check the endpoint settings",
            "Unreachable",
        ) from None
    except NoCredentialsError:
        raise StorageError(
            f"{service} {operation}: the CKAN server has no AWS credentials; ask a sysadmin to set "
            "ckanext.s3multipart.aws_access_key_id/aws_secret_access_key or the standard chain",
            "NoCredentials",
        ) from None
    except BotoCoreError as e:
        log.warning("%s %s failed: %s", service, operation, type(e).__name__)
        raise StorageError(f"{service} {operation} failed: {type(e).__name__}",
                           type(e).__name__) from None


def _acl_args() -> dict[str, str]:
    return {"ACL": config.acl()} if config.acl() else {}


def create_multipart_upload(key: str, content_type: str, metadata: dict[str, str]) -> str:
    with errors("S3", "CreateMultipartUpload"):
        answer = s3().create_multipart_upload(
            Bucket=config.bucket(), Key=key, ContentType=content_type,
            Metadata=metadata, **_acl_args())
    return answer["UploadId"]


def upload_exists(key: str, upload_id: str) -> bool:
    """True if a multipart upload with this id is in progress for this key.

    Asked through ListMultipartUploads because S3-compatible stores differ in how they
    answer ListParts for an unknown upload id (moto: 500; S3: NoSuchUpload).
    """
    with errors("S3", "ListMultipartUploads"):
        pages = s3().get_paginator("list_multipart_uploads").paginate(
            Bucket=config.bucket(), Prefix=key)
        return any(
            upload["Key"] == key and upload["UploadId"] == upload_id
            for page in pages for upload in page.get("Uploads", [])
        )


def presign_part(key: str, upload_id: str, part_number: int, expires: int,
                 content_md5: str | None = None) -> str:
    """A presigned UploadPart URL. With `content_md5` (base64) the Content-MD5 header is one
    of the signed headers: the PUT must send it, and the store refuses other bytes."""
    params: dict[str, Any] = {"Bucket": config.bucket(), "Key": key,
                              "UploadId": upload_id, "PartNumber": part_number}
    if content_md5:
        params["ContentMD5"] = content_md5
    with errors("S3", "presign UploadPart"):
        return s3().generate_presigned_url("upload_part", Params=params, ExpiresIn=expires)


def list_parts(key: str, upload_id: str) -> list[dict[str, Any]]:
    with errors("S3", "ListParts"):
        pages = s3().get_paginator("list_parts").paginate(
            Bucket=config.bucket(), Key=key, UploadId=upload_id)
        return [
            {"part_number": p["PartNumber"], "etag": p["ETag"], "size": p["Size"]}
            for page in pages for p in page.get("Parts", [])
        ]


def complete_multipart_upload(key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
    with errors("S3", "CompleteMultipartUpload"):
        s3().complete_multipart_upload(
            Bucket=config.bucket(), Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [
                {"PartNumber": p["part_number"], "ETag": p["etag"]} for p in parts
            ]},
        )


def abort_multipart_upload(key: str, upload_id: str) -> None:
    with errors("S3", "AbortMultipartUpload"):
        s3().abort_multipart_upload(Bucket=config.bucket(), Key=key, UploadId=upload_id)


def head(key: str) -> dict[str, Any] | None:
    """HeadObject's answer, or None when there is no such object."""
    try:
        with errors("S3", "HeadObject"):
            return s3().head_object(Bucket=config.bucket(), Key=key)
    except StorageError as e:
        if e.code in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def delete(key: str) -> None:
    with errors("S3", "DeleteObject"):
        s3().delete_object(Bucket=config.bucket(), Key=key)


def has_objects(prefix: str) -> bool:
    with errors("S3", "ListObjectsV2"):
        answer = s3().list_objects_v2(Bucket=config.bucket(), Prefix=prefix, MaxKeys=1)
    return answer.get("KeyCount", 0) > 0


def presigned_post(key: str, fields: dict[str, str], conditions: list[Any],
                   expires: int) -> dict[str, Any]:
    fields = {**fields, **({"acl": config.acl()} if config.acl() else {})}
    conditions = conditions + [{name: value} for name, value in fields.items()]
    with errors("S3", "presign POST"):
        return s3().generate_presigned_post(
            Bucket=config.bucket(), Key=key, Fields=fields,
            Conditions=conditions, ExpiresIn=expires)


def assume_role(session_name: str, policy: str, duration: int) -> dict[str, Any]:
    """STS AssumeRole on the configured role with an inline session policy."""
    with errors("STS", "AssumeRole"):
        return sts().assume_role(
            RoleArn=config.role_arn(), RoleSessionName=session_name,
            Policy=policy, DurationSeconds=duration)


def upload_fileobj(key: str, fileobj: IO[bytes], size: int, content_type: str,
                   metadata: dict[str, str],
                   callback: Callable[[int], None] | None = None) -> None:
    """Stream a file object to S3 with s3transfer: one PUT below the part size, a
    multipart upload from it on, parts planned like the browser's, memory bounded by
    s3transfer's in-memory chunk limit whatever the file size. `callback` gets the
    number of bytes sent since its last call."""
    part_size, _ = parts.plan(size, config.part_size())
    transfer = TransferConfig(multipart_threshold=config.part_size(),
                              multipart_chunksize=part_size,
                              max_concurrency=config.concurrency())
    with errors("S3", "upload"):
        s3().upload_fileobj(
            fileobj, config.bucket(), key, Config=transfer, Callback=callback,
            ExtraArgs={"ContentType": content_type, "Metadata": metadata, **_acl_args()})


def presign_get(key: str, expires: int, content_disposition: str) -> str:
    """A presigned GET that makes browsers save the object under `content_disposition`."""
    with errors("S3", "presign GetObject"):
        return s3().generate_presigned_url(
            "get_object",
            Params={"Bucket": config.bucket(), "Key": key,
                    "ResponseContentDisposition": content_disposition},
            ExpiresIn=expires,
        )


# Operator commands (cli/) ------------------------------------------------------------

def credentials_source() -> str | None:
    """Where the server's own credentials come from, or None when boto3 finds none."""
    if config.server_keys():
        return "ckan.ini"
    found = boto3.session.Session().get_credentials()
    return found.method if found else None


def head_bucket() -> None:
    with errors("S3", "HeadBucket"):
        s3().head_bucket(Bucket=config.bucket())


def _rules(operation: str, missing: str, read: Callable[[], dict[str, Any]],
           field: str) -> list[dict[str, Any]]:
    try:
        with errors("S3", operation):
            return read().get(field, [])
    except StorageError as e:
        if e.code == missing:
            return []
        raise


def bucket_cors() -> list[dict[str, Any]]:
    """The bucket's CORS rules ([] when it has none)."""
    return _rules("GetBucketCors", "NoSuchCORSConfiguration",
                  lambda: s3().get_bucket_cors(Bucket=config.bucket()), "CORSRules")


def put_bucket_cors(rules: list[dict[str, Any]]) -> None:
    with errors("S3", "PutBucketCors"):
        s3().put_bucket_cors(Bucket=config.bucket(), CORSConfiguration={"CORSRules": rules})


def bucket_lifecycle() -> list[dict[str, Any]]:
    """The bucket's lifecycle rules ([] when it has none)."""
    return _rules("GetBucketLifecycleConfiguration", "NoSuchLifecycleConfiguration",
                  lambda: s3().get_bucket_lifecycle_configuration(Bucket=config.bucket()),
                  "Rules")


def put_bucket_lifecycle(rules: list[dict[str, Any]]) -> None:
    with errors("S3", "PutBucketLifecycleConfiguration"):
        s3().put_bucket_lifecycle_configuration(
            Bucket=config.bucket(), LifecycleConfiguration={"Rules": rules})


def list_objects(prefix: str) -> Iterator[dict[str, Any]]:
    """Every object under `prefix`: ListObjectsV2's entries (Key, Size, LastModified, ETag)."""
    with errors("S3", "ListObjectsV2"):
        pages = s3().get_paginator("list_objects_v2").paginate(
            Bucket=config.bucket(), Prefix=prefix)
        for page in pages:
            yield from page.get("Contents", [])


def list_uploads(prefix: str) -> Iterator[dict[str, Any]]:
    """Multipart uploads in progress under `prefix` (Key, UploadId, Initiated)."""
    with errors("S3", "ListMultipartUploads"):
        pages = s3().get_paginator("list_multipart_uploads").paginate(
            Bucket=config.bucket(), Prefix=prefix)
        for page in pages:
            yield from page.get("Uploads", [])


def delete_objects(keys: Iterable[str]) -> list[str]:
    """Delete objects, 1000 per request; returns the keys S3 refused to delete."""
    keys, refused = list(keys), []
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start:start + 1000]]
        with errors("S3", "DeleteObjects"):
            answer = s3().delete_objects(Bucket=config.bucket(),
                                         Delete={"Objects": batch, "Quiet": True})
        refused += [e["Key"] for e in answer.get("Errors", [])]
    return refused


def read_chunks(key: str, chunk_size: int = 1024**2) -> Iterator[bytes]:
    """The object's bytes, streamed."""
    with errors("S3", "GetObject"):
        body = s3().get_object(Bucket=config.bucket(), Key=key)["Body"]
        yield from body.iter_chunks(chunk_size)
