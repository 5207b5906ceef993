"""Sending one file's parts to S3: STS mode (boto3 with CKAN's temporary credentials) or
presigned mode (plain PUTs to URLs CKAN presigns), the same part plan as the browser."""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import boto3
import botocore.session
import requests
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from .. import retry_policy
from ..checksums import content_md5, md5_of_range
from ..failures import s3_error, s3_error_field
from ..parts import part_count, part_range
from ..s3_config import client_config
from .api import ApiError, Ckan

SIGN_BATCH = 100  # at most, per sign call: the parts read while one call was made


class UploadError(Exception):
    """An upload cannot go on; the message says why."""


class DigestRefused(UploadError):
    """The store refused a part as not the bytes its Content-MD5 names (BadDigest)."""


def merge_listed(listed: list[dict[str, Any]], size: int, part_size: int) -> dict[int, str]:
    """Parts S3 already holds that can be kept: {part number: ETag}. A listed part counts
    only if its size is the plan's for that number, so a part cut short is sent again."""
    done = {}
    count = part_count(size, part_size)
    for part in listed:
        number = int(part["part_number"])
        if not 1 <= number <= count:
            continue
        start, end = part_range(size, part_size, number)
        if int(part["size"]) == end - start:
            done[number] = part["etag"]
    return done


def matching_parts(path: str, size: int, part_size: int,
                   done: dict[int, str]) -> dict[int, str]:
    """Of the parts S3 holds, those whose ETag is the MD5 of the local file's bytes for
    that part: a part of the same size but other bytes (a disk that changed under the
    same name and time) is sent again. An ETag that is no MD5 (some stores' encrypted
    objects) is trusted by its size, as `merge_listed` checked it."""
    kept = {}
    with open(path, "rb") as f:
        for number, etag in done.items():
            md5 = etag.strip('"').lower()
            if len(md5) != 32 or any(c not in "0123456789abcdef" for c in md5):
                kept[number] = etag
                continue
            if md5_of_range(f, *part_range(size, part_size, number)) == md5:
                kept[number] = etag
    return kept


@contextlib.contextmanager
def s3_errors(operation: str) -> Iterator[None]:
    try:
        yield
    except ClientError as e:
        error = e.response.get("Error", {})
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "an error"
        code = error.get("Code") or ""
        problem = UploadError if not retry_policy.digest_refused(code) else DigestRefused
        raise problem(f"{operation}: " + s3_error(status, code,
                                                  error.get("Message") or "")) from None
    except BotoCoreError as e:
        raise UploadError(f"S3 {operation} failed: {e}") from None


class StsTransport:
    """STS mode: the client signs its own S3 calls with credentials that may only upload
    under one prefix; they are renewed (same prefix) before they expire."""

    mode = "sts"

    def __init__(self, api: Ckan, dataset: str, answer: dict[str, Any], key: str,
                 concurrency: int | None, upload_id: str | None = None,
                 shared: StsTransport | None = None) -> None:
        self.api, self.dataset, self.answer = api, dataset, answer
        self.key, self.upload_id = key, upload_id
        self.prefix, self.bucket = answer["prefix"], answer["bucket"]
        self.concurrency = concurrency or int(answer.get("concurrency") or 4)
        if shared is not None:
            # The files of a batch share one client and its renewing credentials.
            self.s3 = shared.s3
            return
        # Renewed a few minutes ahead: botocore's default (15 minutes) is the shortest
        # lifetime CKAN may hand out, and would mean asking CKAN before every request.
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=self._metadata(answer["credentials"]), refresh_using=self._refresh,
            method="ckan-s3multipart", advisory_timeout=5 * 60, mandatory_timeout=2 * 60)
        session = botocore.session.get_session()
        session._credentials = credentials  # botocore's way to plug in refreshable ones
        config = client_config(answer.get("addressing_style") or "auto",
                               retries=retry_policy.botocore_retries(),
                               max_pool_connections=max(10, self.concurrency + 2),
                               connect_timeout=10, read_timeout=300)
        self.s3 = boto3.Session(botocore_session=session).client(
            "s3", endpoint_url=answer.get("endpoint_url") or None,
            region_name=answer.get("region") or "us-east-1", config=config)

    @staticmethod
    def _metadata(credentials: dict[str, str]) -> dict[str, str]:
        return {"access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": credentials["Expiration"]}

    def _refresh(self) -> dict[str, str]:
        answer = self.api.call("s3multipart_credentials", id=self.dataset, prefix=self.prefix)
        return self._metadata(answer["credentials"])

    @property
    def part_size(self) -> int:
        return int(self.answer["part_size"])

    def create(self, content_type: str) -> None:
        extra = {"ACL": self.answer["acl"]} if self.answer.get("acl") else {}
        with s3_errors("CreateMultipartUpload"):
            self.upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=content_type,
                Metadata=self.answer.get("metadata") or {}, **extra)["UploadId"]

    def put_part(self, number: int, data: bytes, md5: str) -> str:
        with s3_errors(f"UploadPart {number}"):
            return self.s3.upload_part(Bucket=self.bucket, Key=self.key,
                                       UploadId=self.upload_id, PartNumber=number,
                                       Body=data, ContentMD5=md5)["ETag"]

    def list_parts(self) -> list[dict[str, Any]] | None:
        """The parts S3 holds, or None when the upload is gone (completed or aborted)."""
        try:
            pages = self.s3.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            return [{"part_number": p["PartNumber"], "etag": p["ETag"], "size": p["Size"]}
                    for page in pages for p in page.get("Parts", [])]
        except (ClientError, BotoCoreError):
            return None

    def complete(self, parts: dict[int, str]) -> None:
        with s3_errors("CompleteMultipartUpload"):
            self.s3.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": parts[n]}
                                           for n in sorted(parts)]})

    def state(self) -> dict[str, Any]:
        return {"mode": self.mode, "key": self.key, "upload_id": self.upload_id,
                "prefix": self.prefix, "part_size": self.part_size,
                "concurrency": self.concurrency}


class PresignedTransport:
    """Presigned mode: CKAN starts, presigns, lists and completes; parts go up as plain
    PUTs, each retried with backoff (and signed again when its URL expired)."""

    mode = "presigned"

    def __init__(self, api: Ckan, dataset: str, key: str, upload_id: str,
                 part_size: int, concurrency: int) -> None:
        self.api, self.dataset = api, dataset
        self.key, self.upload_id, self.part_size = key, upload_id, part_size
        self.concurrency = concurrency
        # Each URL is signed for its part's Content-MD5, so it takes no other bytes.
        self._urls: dict[int, tuple[str, str, float]] = {}  # number: (md5, url, good until)
        self._read: dict[int, str] = {}  # parts read and hashed, waiting for a URL: their MD5
        self._read_lock = threading.Lock()
        self._lock = threading.Lock()
        self._local = threading.local()

    def _ids(self) -> dict[str, str]:
        return {"id": self.dataset, "key": self.key, "upload_id": self.upload_id}

    def _url(self, number: int, md5: str) -> str:
        with self._read_lock:
            self._read[number] = md5
        with self._lock:
            signed_md5, url, good_until = self._urls.get(number, ("", "", 0.0))
            if url and signed_md5 == md5 and time.monotonic() < good_until:
                return url
            # This part and the others read meanwhile (up to the concurrency), in one call.
            with self._read_lock:
                batch = {number: md5, **dict(sorted(self._read.items())[:SIGN_BATCH - 1])}
                for n in batch:
                    self._read.pop(n, None)
            answer = self.api.call("s3multipart_upload_sign", **self._ids(), parts=[
                {"part_number": n, "content_md5": digest} for n, digest in batch.items()])
            # Renewed well before S3 would refuse them.
            good_until = time.monotonic() + 0.8 * int(answer.get("expires_in") or 900)
            for n, digest in batch.items():
                self._urls[n] = (digest, answer["urls"][str(n)], good_until)
            return self._urls[number][1]

    def _http(self) -> requests.Session:
        if not hasattr(self._local, "http"):
            self._local.http = requests.Session()
        return self._local.http

    def put_part(self, number: int, data: bytes, md5: str) -> str:
        problem = ""
        for attempt in range(1, retry_policy.ATTEMPTS + 1):
            if attempt > 1:
                time.sleep(retry_policy.backoff(attempt - 1))
            try:
                answer = self._http().put(self._url(number, md5), data=data,
                                          headers={"Content-MD5": md5}, timeout=(10, 300))
            except requests.RequestException as e:
                problem = type(e).__name__
                continue
            if answer.ok:
                etag = answer.headers.get("ETag")
                if not etag:
                    raise UploadError(f"S3 answered part {number} without an ETag")
                with self._lock:  # sent: its URL is not needed again
                    self._urls.pop(number, None)
                return etag
            code = s3_error_field(answer.text, "Code")
            message = s3_error_field(answer.text, "Message")
            problem = s3_error(answer.status_code, code, message)
            if retry_policy.digest_refused(code):  # sent again by send_parts, read anew
                raise DigestRefused(f"part {number}: {problem}")
            if retry_policy.needs_refresh(answer.status_code, code, answer.text):  # sign again
                with self._lock:
                    self._urls.pop(number, None)
            elif not retry_policy.retryable(answer.status_code, code):
                raise UploadError(f"part {number}: {problem}")
        raise UploadError(f"part {number} failed {retry_policy.ATTEMPTS} times "
                          f"(last: {problem})")

    def list_parts(self) -> list[dict[str, Any]] | None:
        try:
            return self.api.call("s3multipart_upload_list_parts", **self._ids())["parts"]
        except ApiError as e:
            if e.status == 404:  # completed, aborted or expired
                return None
            raise

    def complete(self, parts: dict[int, str]) -> None:
        self.api.call("s3multipart_upload_complete", **self._ids(), parts=[
            {"part_number": n, "etag": parts[n]} for n in sorted(parts)])

    def state(self) -> dict[str, Any]:
        return {"mode": self.mode, "key": self.key, "upload_id": self.upload_id,
                "part_size": self.part_size, "concurrency": self.concurrency}


Transport = StsTransport | PresignedTransport


def send_parts(transport: Transport, path: str, size: int, numbers: list[int],
               on_part: Callable[[int, str, int], None]) -> None:
    """Send these parts of the file, the transport's concurrency at a time; `on_part(number, etag,
    bytes)` runs in this thread as each one lands. The first part that fails for good
    stops the rest. Memory stays near concurrency x part size whatever the file size."""
    part_size, concurrency = transport.part_size, transport.concurrency

    def read(number: int) -> bytes:
        start, end = part_range(size, part_size, number)
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read(end - start)
        if len(data) != end - start:
            raise UploadError(f"{path} changed while it was read; run the command again")
        return data

    def send(number: int) -> tuple[int, str, int]:
        data = read(number)
        md5 = content_md5(data)
        for attempt in range(1, retry_policy.ATTEMPTS + 1):
            try:
                return number, transport.put_part(number, data, md5), len(data)
            except DigestRefused as refused:
                problem = str(refused)
            # The store saw other bytes than those hashed: read the part again, from disk.
            data = read(number)
            if content_md5(data) != md5:
                raise UploadError(f"part {number} of {path} changed on disk during the upload; "
                                  "run the same command again to upload the file as it is now")
            if attempt < retry_policy.ATTEMPTS:
                time.sleep(retry_policy.backoff(attempt))
        raise UploadError(f"part {number} of {path} was refused {retry_policy.ATTEMPTS} times "
                          f"as not the bytes read from disk ({problem}): the file is changing "
                          "or the disk (or memory) is failing; check it, then run the same "
                          "command again")

    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="s3multipart-part")
    pending: set[Future[tuple[int, str, int]]] = set()
    queue = list(reversed(numbers))
    try:
        while queue or pending:
            # A short queue ahead of the workers: nothing is read before it is sent.
            while queue and len(pending) < 2 * concurrency:
                pending.add(pool.submit(send, queue.pop()))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                on_part(*future.result())
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
