"""Uploading one file into a CKAN resource: pick the site's mode, resume or start the
multipart upload, send the missing parts, complete it, create or update the resource
with the file's SHA-256."""
from __future__ import annotations

import os
import pathlib
import threading
from collections.abc import Callable
from typing import Any

from .. import checksums, limits, media_types, parts
from .api import ApiError, Ckan
from .state import Record
from .transfer import (
    PresignedTransport,
    StsTransport,
    Transport,
    UploadError,
    matching_parts,
    merge_listed,
    send_parts,
)

Progress = Callable[[int, str], Any]  # (file size, label) -> a click progress bar


class Sha256:
    """The file's SHA-256, read front to back in a thread of its own while the parts go
    out (their order is not the file's), so it costs no time on a network slower than
    the disk. A daemon thread: Ctrl-C does not wait for it."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path, self.value, self.error = path, "", None
        self.thread = threading.Thread(target=self._read, name="s3multipart-sha256",
                                       daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            with open(self.path, "rb") as f:
                self.value = checksums.sha256_of(f)
        except OSError as e:
            self.error = e

    def result(self) -> str:
        self.thread.join()
        if self.error is not None:
            raise UploadError(f"{self.path} could not be read: {self.error}")
        return self.value


def _fingerprint(path: pathlib.Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def _presigned_refusal(error: ApiError) -> bool:
    """True for the answer of a site in presigned mode to a request for credentials."""
    return error.status == 409 and "mode" in error.error


class Upload:
    """One file going into one dataset (a new resource, or replacing a resource's file)."""

    def __init__(self, api: Ckan, path: pathlib.Path, dataset: str,
                 resource_id: str | None, concurrency: int | None,
                 say: Callable[[str], None], progress: Progress,
                 state_dir: pathlib.Path | None = None, name: str | None = None) -> None:
        self.api, self.path, self.dataset = api, path, dataset
        self.resource_id, self.concurrency = resource_id, concurrency
        self.say, self.progress = say, progress
        self.size = path.stat().st_size
        self.name = name or path.name  # in a batch, the file's path within it
        self.content_type = media_types.content_type(None, self.name)
        self.record = Record(api.url, dataset, resource_id, path, state_dir, name)

    def run(self) -> dict[str, Any]:
        """Upload (or finish uploading) the file; returns the resource."""
        saved = self.record.load() or {}
        if saved.get("resource"):
            done = self._earlier_resource(saved)
            if done:
                return done
            saved = {}
        key, digest = self.send(saved)
        resource = self._save_resource(key, digest)
        self.made(resource["id"])
        return resource

    def send(self, saved: dict[str, Any]) -> tuple[str, str]:
        """Put the file in S3, resuming the `saved` upload; its key and SHA-256."""
        before = _fingerprint(self.path)
        sha256 = Sha256(self.path)
        if saved.get("completed"):
            key = saved["key"]
        else:
            key = self._transfer(saved)
        digest = sha256.result()
        if _fingerprint(self.path) != before:
            # What S3 holds may mix old and new bytes: never make a resource of it.
            self.record.clear()
            raise UploadError(f"{self.path} changed while it was uploaded; run the same "
                              "command again to upload it as it is now")
        return key, digest

    def made(self, resource_id: str) -> None:
        """Remember the resource made from the file: a run on the same file finds it."""
        self.record.save({**(self.record.load() or {}), "resource": resource_id})

    def _earlier_resource(self, saved: dict[str, Any]) -> dict[str, Any] | None:
        """The resource an earlier run made from this very file, if it still has it."""
        try:
            resource = self.api.call("resource_show", id=saved["resource"])
        except ApiError:
            return None
        if resource.get("s3_key") != saved.get("key") or resource.get("state") == "deleted":
            return None
        self.say(f"{self.path}: already uploaded as resource {resource['id']} (an earlier run); "
                 "touch the file to upload it again")
        return resource

    # The multipart upload -----------------------------------------------------------

    def _transfer(self, saved: dict[str, Any]) -> str:
        transport, done = self._resume(saved) if saved else (None, {})
        if transport is None:
            transport = self._start()
            done = {}
        self.record.save(transport.state())
        part_size = transport.part_size
        count = parts.part_count(self.size, part_size)
        todo = [n for n in range(1, count + 1) if n not in done]
        with self.progress(self.size, self.name) as bar:
            bar.update(sum(end - start for start, end in
                           (parts.part_range(self.size, part_size, n) for n in done)))

            def landed(number: int, etag: str, length: int) -> None:
                done[number] = etag
                bar.update(length)

            try:
                send_parts(transport, str(self.path), self.size, todo, landed)
            except UploadError as e:
                raise UploadError(f"{self.path}: {e}; run the same command again to resume "
                                  f"({len(done)} of {count} parts are uploaded)") from None
        transport.complete(done)
        self.record.save({**transport.state(), "completed": True})
        return transport.key

    def _resume(self, saved: dict[str, Any]) -> tuple[Transport | None, dict[int, str]]:
        """The saved upload and the parts S3 already holds, or (None, {}) to start anew."""
        try:
            if saved.get("mode") == "sts":
                transport: Transport = self._saved_sts(saved)
            else:
                transport = PresignedTransport(
                    self.api, self.dataset, saved["key"], saved["upload_id"],
                    int(saved["part_size"]), self.concurrency or int(saved["concurrency"]))
            listed = transport.list_parts()
        except ApiError as e:
            if e.status in (401, 403):
                raise
            listed, reason = None, str(e)
        else:
            reason = "it is no longer in progress"
        if listed is None:
            self.say(f"{self.path}: the earlier upload cannot be resumed ({reason}); "
                     "starting again")
            self.record.clear()
            return None, {}
        count = parts.part_count(self.size, transport.part_size)
        done = merge_listed(listed, self.size, transport.part_size)
        done = matching_parts(str(self.path), self.size, transport.part_size, done)
        if done:
            self.say(f"{self.path}: resuming, {len(done)} of {count} parts already uploaded")
        return transport, done

    def _saved_sts(self, saved: dict[str, Any]) -> StsTransport:
        """The saved STS-mode upload, with credentials for its prefix."""
        answer = self.api.call("s3multipart_credentials", id=self.dataset,
                               prefix=saved["prefix"], filename=self.name)
        return StsTransport(self.api, self.dataset, {**answer, "part_size": saved["part_size"]},
                            saved["key"], self.concurrency, upload_id=saved["upload_id"])

    def _start(self) -> Transport:
        """A new multipart upload, in STS mode unless the site answers it uses presigned."""
        request = {"id": self.dataset, "filename": self.name,
                   **({"resource_id": self.resource_id} if self.resource_id else {})}
        try:
            answer = self.api.call("s3multipart_credentials", **request)
        except ApiError as e:
            if not _presigned_refusal(e):
                raise
            return self._start_presigned(request)
        problem = limits.too_large(self.size, int(answer.get("max_size") or self.size),
                                   str(self.path))
        if problem:
            raise UploadError(problem)
        part_size, _ = parts.plan(self.size, int(answer["part_size"]))
        transport = StsTransport(self.api, self.dataset, {**answer, "part_size": part_size},
                                 answer["key"], self.concurrency)
        transport.create(self.content_type)
        return transport

    def _start_presigned(self, request: dict[str, Any]) -> PresignedTransport:
        answer = self.api.call("s3multipart_upload_start", size=self.size,
                               content_type=self.content_type, **request)
        return PresignedTransport(self.api, self.dataset, answer["key"], answer["upload_id"],
                                  int(answer["part_size"]),
                                  self.concurrency or int(answer.get("concurrency") or 4))

    # The resource -------------------------------------------------------------------

    def _save_resource(self, key: str, sha256: str) -> dict[str, Any]:
        checksum = {"hash": sha256, "hash_algorithm": checksums.HASH_ALGORITHM}
        if self.resource_id:
            # Only the file changes; the resource's name, description etc. stay.
            return self.api.call("resource_patch", id=self.resource_id, url_type="upload",
                                 s3_key=key, **checksum)
        return self.api.call("resource_create", package_id=self.dataset, url_type="upload",
                             s3_key=key, name=self.name, **checksum)

