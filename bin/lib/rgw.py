#!/usr/bin/env python3
"""A throwaway single-node Ceph RADOS Gateway (S3 + STS) on 127.0.0.1, for tests and benchmarks.

    rgw.py start DIR [--bucket NAME] [--size-gib N]
                                        build a cluster in DIR, print its connection as JSON
    rgw.py stop DIR                     stop every daemon started in DIR (by PID)
    rgw.py stop-stale                   stop the clusters of test runs that were killed

Test runs build their cluster in $TMPDIR/s3multipart-rgw-<pid of the run>-*; a cluster
whose run is gone (SIGKILL, a crashed CI job) is stale.

One monitor, one bluestore OSD on a sparse file and one radosgw, on free ports, with
cephx off. `start` also creates the server's user, an upload role that user may assume
(its permission policy allows S3 on the bucket; CKAN's session policies narrow it), and
the bucket. The JSON (also written to DIR/rgw.json) names the endpoint, keys, role ARN
and bucket. Needs Debian's radosgw, ceph-mon and ceph-osd packages, and boto3.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from ckanext.s3multipart.tests.devsupport import free_port

USER = "ckan-server"
ROLE = "ckan-upload"
DAEMONS = ("radosgw", "osd.0", "mon.a")  # stopped in this order


def ceph_conf(folder: pathlib.Path, mon_v2: int, mon_v1: int, rgw_port: int,
              size_gib: int) -> str:
    run = folder / "run"
    return f"""[global]
fsid = {uuid.uuid4()}
mon host = [v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
# Without it radosgw loops on "get_initial_auth_request returned -13".
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
run dir = {run}
admin socket = {run}/$name.asok
pid file = {run}/$name.pid
log file = {folder}/log/$name.log
keyring = {folder}/keyring

[mon]
mon data = {folder}/mon/$cluster-$id

[osd]
osd data = {folder}/osd/$cluster-$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = {size_gib * 1024**3}
osd memory target = 1073741824

[client.rgw.a]
# beast: civetweb loses a byte after a refused PUT.
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw s3 auth use sts = true
rgw sts key = {secrets.token_hex(8)}
# Space of deleted objects back within a minute, not two hours: runs that write and
# delete many large objects (bin/bench) would otherwise fill the OSD.
rgw gc obj min wait = 30
rgw gc processor period = 30
"""


class Cluster:
    def __init__(self, folder: pathlib.Path):
        self.folder = folder.resolve()
        self.conf = self.folder / "ceph.conf"

    def _run(self, *command: str, input: str | None = None) -> str:
        result = subprocess.run([command[0], "-c", str(self.conf), *command[1:]],
                                capture_output=True, text=True, input=input, timeout=120)
        if result.returncode != 0:
            raise SystemExit(f"rgw.py: {' '.join(command[:3])} failed ({result.returncode}):\n"
                             f"{result.stderr.strip()[-2000:]}\nlogs: {self.folder}/log")
        return result.stdout

    def start(self, bucket: str, size_gib: int = 10) -> dict[str, str]:
        for name in ("mon", "osd/ceph-0", "run", "log"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        mon_v2, mon_v1, rgw_port = free_port(), free_port(), free_port()
        self.conf.write_text(ceph_conf(self.folder, mon_v2, mon_v1, rgw_port, size_gib))
        keyring, monmap = self.folder / "keyring", self.folder / "monmap"
        fsid = next(line.split("=", 1)[1].strip() for line in self.conf.read_text().splitlines()
                    if line.startswith("fsid"))
        subprocess.run(["ceph-authtool", "--create-keyring", str(keyring), "--gen-key",
                        "-n", "mon.", "--cap", "mon", "allow *"],
                       check=True, capture_output=True, timeout=60)
        subprocess.run(["monmaptool", "--create", "--fsid", fsid, "--addv", "a",
                        f"[v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}]", str(monmap)],
                       check=True, capture_output=True, timeout=60)
        self._run("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(monmap),
                  "--keyring", str(keyring))
        self._run("ceph-mon", "-i", "a")
        osd_id = self._run("ceph", "osd", "create").strip()
        self._run("ceph-osd", "-i", osd_id, "--mkfs")
        self._run("ceph-osd", "-i", osd_id)
        self._run("radosgw", "-n", "client.rgw.a")
        endpoint = f"http://127.0.0.1:{rgw_port}"
        self._wait_for(endpoint)

        access_key, secret_key = secrets.token_hex(10).upper(), secrets.token_hex(20)
        self._run("radosgw-admin", "user", "create", "--uid", USER, "--display-name", USER,
                  "--access-key", access_key, "--secret-key", secret_key)
        self._run("radosgw-admin", "caps", "add", "--uid", USER, "--caps", "roles=*")
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam:::user/{USER}"]},
            "Action": ["sts:AssumeRole"]}]}
        self._run("radosgw-admin", "role", "create", "--role-name", ROLE, "--path", "/",
                  "--assume-role-policy-doc", json.dumps(trust))
        permissions = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["s3:*"],
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}
        self._run("radosgw-admin", "role-policy", "put", "--role-name", ROLE,
                  "--policy-name", "bucket-access", "--policy-doc", json.dumps(permissions))
        import boto3
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id=access_key,
                     aws_secret_access_key=secret_key).create_bucket(Bucket=bucket)
        info = {"endpoint_url": endpoint, "aws_access_key_id": access_key,
                "aws_secret_access_key": secret_key, "role_arn": f"arn:aws:iam:::role/{ROLE}",
                "bucket": bucket, "region": "us-east-1", "folder": str(self.folder)}
        (self.folder / "rgw.json").write_text(json.dumps(info, indent=2))
        return info

    def _wait_for(self, endpoint: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(endpoint, timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"rgw.py: radosgw did not answer on {endpoint} within {timeout:.0f} s;"
                         f" logs: {self.folder}/log")

    def stop(self) -> None:
        """TERM each daemon by its pid file, then KILL what is still there after 20 s."""
        pids = []
        for name in DAEMONS:
            daemon = "client.rgw.a" if name == "radosgw" else name
            path = self.folder / "run" / f"{daemon}.pid"
            try:
                pid = int(path.read_text().strip())
                os.kill(pid, signal.SIGTERM)
                pids.append(pid)
            except (FileNotFoundError, ValueError, ProcessLookupError):
                continue
        deadline = time.monotonic() + 20
        for pid in pids:
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (its parent, ceph's daemonizing fork, exited).
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


STALE_PREFIX = "s3multipart-rgw-"


def stop_stale() -> None:
    for folder in pathlib.Path(tempfile.gettempdir()).glob(STALE_PREFIX + "*"):
        owner = folder.name[len(STALE_PREFIX):].split("-")[0]
        if owner.isdigit() and _alive(int(owner)):
            continue
        Cluster(folder).stop()
        shutil.rmtree(folder, ignore_errors=True)
        print(f"rgw.py: stopped the stale cluster in {folder}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "stop-stale"])
    parser.add_argument("folder", type=pathlib.Path, nargs="?")
    parser.add_argument("--bucket", default="ckan-test-bucket")
    parser.add_argument("--size-gib", type=int, default=10,
                        help="the OSD's (sparse) size; 10 GiB holds the tests' objects")
    args = parser.parse_args()
    if args.command == "stop-stale":
        stop_stale()
        return
    if args.folder is None:
        parser.error(f"{args.command} needs the cluster's folder")
    cluster = Cluster(args.folder)
    if args.command == "stop":
        cluster.stop()
        return
    try:
        info = cluster.start(args.bucket, args.size_gib)
    except BaseException:
        cluster.stop()  # whatever got started, also on Ctrl-C
        raise
    json.dump(info, sys.stdout)
    print()


if __name__ == "__main__":
    main()
