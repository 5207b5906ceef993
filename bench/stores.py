"""The S3 + STS endpoints the benchmarks measure against, each in processes of their own:
moto's server (permissive, copies parts on complete) and a throwaway single-node Ceph RGW
(bin/lib/rgw.py: real SigV4, session policies, its own storage path)."""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import boto3

from ckanext.s3multipart.s3_config import client_config
from ckanext.s3multipart.tests import devsupport

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUCKET = "ckan-bench"
NAMES = {"moto": "moto", "rgw": "Ceph RGW"}


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def rss(pid: int) -> int:
    """Resident memory of a process, in bytes (0 once it is gone)."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class Store:
    kind: str                       # "moto" or "rgw"
    url: str
    access_key: str
    secret_key: str
    role_arn: str
    version: str
    pid: int                        # the process that holds the objects (for its memory)
    bucket: str = BUCKET
    _stop: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return NAMES[self.kind]

    def client(self, url: str | None = None) -> Any:
        """boto3 S3 for the server's user, straight to the store or through `url`."""
        return boto3.client("s3", endpoint_url=url or self.url, region_name="us-east-1",
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            config=client_config("path", retries={"max_attempts": 10}))

    def rss(self) -> int:
        return rss(self.pid)

    def stop(self) -> None:
        self._stop()


def start(kind: str) -> Store:
    return {"moto": _moto, "rgw": _rgw}[kind]()


def _moto() -> Store:
    import importlib.metadata as md
    port = devsupport.free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.moto_server", str(port)],
                               env=_env())
    wait_port(port)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
    store = Store("moto", f"http://127.0.0.1:{port}", "bench", "bench-secret",
                  "arn:aws:iam::123456789012:role/S3MultipartUploadOnly",
                  md.version("moto"), process.pid, _stop=stop)
    store.client().create_bucket(Bucket=BUCKET)
    return store


def _rgw() -> Store:
    # Its own folder under the system's temporary one, named like the test runs' clusters
    # so that `rgw.py stop-stale` also cleans up after a bench that was killed.
    folder = pathlib.Path(tempfile.mkdtemp(prefix=f"s3multipart-rgw-{os.getpid()}-bench-"))
    rgw = [sys.executable, str(ROOT / "bin/lib/rgw.py")]

    def stop() -> None:
        subprocess.run([*rgw, "stop", str(folder)], check=False, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    try:
        # 40 GiB of sparse bluestore: the bench writes about 12 GiB at full sizes.
        out = subprocess.run([*rgw, "start", str(folder), "--bucket", BUCKET,
                              "--size-gib", "40"],
                             check=True, capture_output=True, text=True, timeout=300).stdout
    except subprocess.CalledProcessError as error:
        stop()
        raise RuntimeError(f"Ceph RGW did not start: {error.stderr.strip()[-1000:]}") from None
    except BaseException:  # a timeout, Ctrl-C: whatever rgw.py started goes too
        stop()
        raise
    info = json.loads(out)
    pid = int((folder / "run" / "client.rgw.a.pid").read_text())
    version = subprocess.run(["radosgw", "--version"], capture_output=True, text=True,
                             check=False).stdout.split()
    return Store("rgw", info["endpoint_url"], info["aws_access_key_id"],
                 info["aws_secret_access_key"], info["role_arn"],
                 version[2] if len(version) > 2 else "?", pid, _stop=stop)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}
