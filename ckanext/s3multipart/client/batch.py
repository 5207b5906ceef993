"""Uploading folders (and the files beside them) into new resources of one dataset.

Each file becomes a resource named by its path relative to the folder chosen
(`survey/2024/01/day.csv`, as a browser names a dropped folder's files); a file whose
name and size a resource of the dataset already has is skipped, and so are the files
an operating system leaves (folders.py). The batch gets one key prefix from CKAN
(s3multipart_batch_keys) and, in STS mode, one set of credentials for it, renewed as they
expire; `files_concurrency` files go at a time, each with its parts in flight as a single
upload does (publish.py), and the finished files become resources up to 100 at a time
(s3multipart_resources_create). A file that fails is reported and the others go on;
running the same command again resumes the unfinished ones and skips the rest.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .. import checksums, folders
from ..folders import KEYS_PER_CALL, RESOURCES_PER_CALL
from ..sizes import human as human_size
from .api import ApiError, Ckan
from .publish import Upload
from .transfer import PresignedTransport, StsTransport, Transport, UploadError

FLUSH_EVERY = 20  # finished files waiting before their resources are made
FLUSH_AFTER = 2.0  # seconds a finished file waits at most for its resource


@dataclasses.dataclass
class Entry:
    """One file of the batch: where it is and what it is called in the dataset."""

    path: pathlib.Path
    name: str
    size: int


@dataclasses.dataclass
class Outcome:
    """What became of the batch's files, counted for the summary."""

    uploaded: int = 0
    uploaded_bytes: int = 0
    present: int = 0
    system: int = 0
    failed: list[str] = dataclasses.field(default_factory=list)


def entries(arguments: Iterable[pathlib.Path], include_system: bool,
            say: Callable[[str], None], outcome: Outcome) -> list[Entry]:
    """The files named by `arguments` (folders walked, sorted), with their batch names;
    system files, non-regular files and a second file of the same name are reported and
    left out."""
    found: dict[str, Entry] = {}

    def unreadable(error: OSError) -> None:
        _failed(say, outcome, str(error.filename), f"cannot be listed ({error.strerror})")

    for argument in arguments:
        for path, name in _walk(argument, unreadable):
            if not include_system and folders.is_system_file(name):
                say(f"{name}: skipped (a system file; --include-system-files uploads it)")
                outcome.system += 1
                continue
            try:
                stat = path.stat()
            except OSError as e:
                _failed(say, outcome, name, f"cannot be read ({e.strerror})")
                continue
            if not path.is_file():
                _failed(say, outcome, name, "is not a regular file")
            elif name in found:
                _failed(say, outcome, name, f"is given twice ({found[name].path} and {path})")
            else:
                found[name] = Entry(path, name, stat.st_size)
    return list(found.values())


def _walk(argument: pathlib.Path, unreadable: Callable[[OSError], None],
          ) -> Iterator[tuple[pathlib.Path, str]]:
    """(path, batch name) of a file, or of each file below a folder (its name first);
    a folder that cannot be listed goes to `unreadable`."""
    if not argument.is_dir():
        yield argument, folders.relative_path(argument.name)
        return
    top = argument.resolve().name
    # Symbolic links to folders are not followed: a link to a parent would never end.
    for root, dirs, files in os.walk(argument, onerror=unreadable):
        dirs.sort()
        below = pathlib.Path(root).relative_to(argument)
        for file_name in sorted(files):
            yield (pathlib.Path(root) / file_name,
                   folders.relative_path(f"{top}/{below.as_posix()}/{file_name}"))


def _failed(say: Callable[[str], None], outcome: Outcome, name: str, why: str) -> None:
    say(f"{name}: FAILED: {why}")
    outcome.failed.append(name)


class BatchFile(Upload):
    """One file of a batch: its key comes from the batch's plan, its STS credentials are
    the batch's, and its resource is made with the others' (Batch)."""

    def __init__(self, batch: Batch, entry: Entry, plan: dict[str, Any] | None) -> None:
        super().__init__(batch.api, entry.path, batch.dataset, None, batch.concurrency,
                         say=batch.say, progress=_no_progress, state_dir=batch.state_dir,
                         name=entry.name)
        self.batch, self.plan = batch, plan

    def _start(self) -> Transport:
        if self.plan is None:
            raise UploadError("has no key from CKAN")
        if self.batch.mode == "sts":
            shared = self.batch.sts(self.batch.prefix)
            transport = StsTransport(self.api, self.dataset,
                                     {**shared.answer, "part_size": self.plan["part_size"]},
                                     self.plan["key"], self.concurrency, shared=shared)
            transport.create(self.plan["content_type"])
            return transport
        answer = self.api.call("s3multipart_upload_start", id=self.dataset, filename=self.name,
                               size=self.size, content_type=self.plan["content_type"],
                               prefix=self.batch.prefix)
        return PresignedTransport(self.api, self.dataset, answer["key"], answer["upload_id"],
                                  int(answer["part_size"]),
                                  self.concurrency or int(answer.get("concurrency") or 4))

    def _saved_sts(self, saved: dict[str, Any]) -> StsTransport:
        shared = self.batch.sts(saved["prefix"])
        return StsTransport(self.api, self.dataset,
                            {**shared.answer, "part_size": saved["part_size"]}, saved["key"],
                            self.concurrency, upload_id=saved["upload_id"], shared=shared)


@contextmanager
def _no_progress(length: int, label: str) -> Iterator[Any]:
    """A batch reports a line per file, not a bar per file."""
    class Bar:
        def update(self, n: int) -> None:
            pass
    yield Bar()


class Batch:
    """Many files going into new resources of one dataset."""

    def __init__(self, api: Ckan, dataset: str, concurrency: int | None,
                 files_concurrency: int | None, say: Callable[[str], None],
                 state_dir: pathlib.Path | None = None) -> None:
        self.api, self.dataset, self.concurrency = api, dataset, concurrency
        self.files_concurrency = files_concurrency
        self.state_dir = state_dir
        self._say_lock = threading.Lock()
        self._say = say
        self.mode, self.prefix = "", ""
        self._sts: dict[str, StsTransport] = {}
        self._sts_lock = threading.Lock()
        self.outcome = Outcome()

    def say(self, text: str) -> None:
        with self._say_lock:
            self._say(text)

    def sts(self, prefix: str) -> StsTransport:
        """The client (and renewing credentials) of one batch prefix: one STS call for
        the batch, not one per file."""
        with self._sts_lock:
            if prefix not in self._sts:
                answer = self.api.call("s3multipart_credentials", id=self.dataset, prefix=prefix)
                files = self.files_concurrency or 1
                self._sts[prefix] = StsTransport(
                    self.api, self.dataset, answer, key="",
                    concurrency=files * (self.concurrency or int(answer.get("concurrency") or 4)))
            return self._sts[prefix]

    def run(self, arguments: Iterable[pathlib.Path], include_system: bool) -> Outcome:
        started = time.monotonic()
        package = self.api.call("package_show", id=self.dataset)
        present = {(r.get("name"), r.get("size")): r for r in package.get("resources", [])}
        todo = []
        for entry in entries(arguments, include_system, self.say, self.outcome):
            if (entry.name, entry.size) in present:
                self.say(f"{entry.name}: skipped (the dataset has it: resource "
                         f"{present[(entry.name, entry.size)]['id']}, same size)")
                self.outcome.present += 1
            else:
                todo.append(entry)
        if todo:
            plans = self._plan(todo)
            self._upload([e for e in todo if e.name in plans], plans)
        self._summary(time.monotonic() - started)
        return self.outcome

    def _plan(self, todo: list[Entry]) -> dict[str, dict[str, Any]]:
        """Each file's key below the batch's prefix (names CKAN cannot store: reported)."""
        plans: dict[str, dict[str, Any]] = {}
        keys: dict[str, str] = {}  # key: name, across calls (each call checks its own)
        for start in range(0, len(todo), KEYS_PER_CALL):
            chunk = todo[start:start + KEYS_PER_CALL]
            answer = self.api.call("s3multipart_batch_keys", id=self.dataset,
                                   files=[{"name": e.name, "size": e.size} for e in chunk],
                                   **({"prefix": self.prefix} if self.prefix else {}))
            self.prefix, self.mode = answer["prefix"], answer["mode"]
            self.files_concurrency = self.files_concurrency or int(answer["files_concurrency"])
            for entry, plan in zip(chunk, answer["files"], strict=True):
                if "error" in plan:
                    _failed(self.say, self.outcome, entry.name, plan["error"])
                elif plan["key"] in keys:
                    _failed(self.say, self.outcome, entry.name,
                            f"would be stored at the same key as '{keys[plan['key']]}'; "
                            "rename one of them")
                else:
                    keys[plan["key"]] = entry.name
                    plans[entry.name] = plan
        return plans

    def _upload(self, todo: list[Entry], plans: dict[str, dict[str, Any]]) -> None:
        """`files_concurrency` files at a time; resources made as files finish."""
        waiting: queue.Queue[Entry | None] = queue.Queue()
        finished: queue.Queue[tuple[BatchFile, Entry, str, str] | None] = queue.Queue()
        for entry in todo:
            waiting.put(entry)

        def work() -> None:
            try:
                while True:
                    entry = waiting.get()
                    if entry is None:
                        return
                    send(entry)
            finally:  # always, or the loop below would wait for this worker for ever
                finished.put(None)

        def send(entry: Entry) -> None:
            try:
                file = BatchFile(self, entry, plans.get(entry.name))
                key, digest = file.send(file.record.load() or {})
            except FileNotFoundError:
                _failed(self.say, self.outcome, entry.name, "vanished during the upload")
            except (ApiError, UploadError, OSError) as e:
                _failed(self.say, self.outcome, entry.name, str(e))
            except Exception as e:  # noqa: BLE001  (one file's bug must not stop the rest)
                _failed(self.say, self.outcome, entry.name, f"{type(e).__name__}: {e}")
            else:
                finished.put((file, entry, key, digest))

        workers = max(1, min(self.files_concurrency or 1, len(todo)))
        for _ in range(workers):
            waiting.put(None)
            # Daemons: Ctrl-C ends the command at once; a rerun resumes the parts sent.
            threading.Thread(target=work, name="s3multipart-file", daemon=True).start()
        ready: list[tuple[BatchFile, Entry, str, str]] = []
        oldest = 0.0
        running = workers
        while running:
            try:
                item = finished.get(timeout=1.0)
            except queue.Empty:
                item = False
            if item is None:
                running -= 1
            elif item:
                if not ready:
                    oldest = time.monotonic()
                ready.append(item)
            if ready and (len(ready) >= FLUSH_EVERY or not running
                          or time.monotonic() - oldest > FLUSH_AFTER):
                self._make_resources(ready)
                ready = []

    def _make_resources(self, ready: list[tuple[BatchFile, Entry, str, str]]) -> None:
        for start in range(0, len(ready), RESOURCES_PER_CALL):
            chunk = ready[start:start + RESOURCES_PER_CALL]
            try:
                answer = self.api.call("s3multipart_resources_create", id=self.dataset,
                                       resources=[{"s3_key": key, "name": entry.name,
                                                   "hash": digest,
                                                   "hash_algorithm": checksums.HASH_ALGORITHM}
                                                  for _, entry, key, digest in chunk])
            except ApiError as e:
                for _, entry, _, _ in chunk:
                    _failed(self.say, self.outcome, entry.name,
                            f"uploaded, but no resource was made ({e}); run the command again")
                continue
            for (file, entry, _, _), made in zip(chunk, answer["resources"], strict=True):
                if "error" in made:
                    # Sent whole again next time: the object may be gone or unusable.
                    file.record.clear()
                    _failed(self.say, self.outcome, entry.name, made["error"])
                    continue
                file.made(made["id"])
                if made["state"] == "present":  # made by an earlier run, whose answer was lost
                    self.outcome.present += 1
                    self.say(f"{entry.name}: skipped (resource {made['id']} has it already)")
                    continue
                self.outcome.uploaded += 1
                self.outcome.uploaded_bytes += entry.size
                self.say(f"{entry.name}: {human_size(entry.size)} in resource {made['id']}")

    def _summary(self, seconds: float) -> None:
        o = self.outcome
        total = o.uploaded + o.present + o.system + len(o.failed)
        rate = f", {human_size(int(o.uploaded_bytes / seconds))}/s" if seconds > 0 else ""
        self.say(f"{total} files: {o.uploaded} uploaded ({human_size(o.uploaded_bytes)} in "
                 f"{seconds:.1f} s{rate}), {o.present} already in the dataset, {o.system} "
                 f"system files skipped, {len(o.failed)} failed")
        if o.failed:
            self.say("Run the same command again to retry the failed files and resume the "
                     "unfinished ones.")
