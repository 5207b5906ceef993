"""The publisher's `s3multipart` client against CKAN over real HTTP (live_ckan) and moto.

Uploads and downloads in STS and presigned mode, resuming after the client was killed,
and refusals: exit status 1 with the server's message, never a traceback.
"""
from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
from typing import Any

import pytest
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.s3multipart import credentials, retry_policy
from ckanext.s3multipart.client.main import main

from ..s3proxy import first_tries
from ..support import BUCKET
from .commands import (
    NO_CKAN,
    MiB,
    client,
    make_file,
    part_puts,
    resources,
    settle,
    start_client,
    wait_for_parts,
)

pytestmark = pytest.mark.usefixtures("store", "with_plugins")




@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_upload_then_download_gives_the_same_bytes(mode, env, store, live_ckan, s3_proxy,
                                                   sts_recorder,
                                                   ckan_config, monkeypatch, tmp_path, cache, s3):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    big = make_file(tmp_path, "measurements 2024.bin", 12 * MiB + 7)
    small = make_file(tmp_path, "notes.txt", 100)
    assumed = len(sts_recorder.calls)

    output = client(cache, "upload", "--dataset", "big-data", str(big), str(small),
                    user=env.publisher, url=live_ckan)

    made = {r["name"]: r for r in resources()}
    assert set(made) == {"measurements 2024.bin", "notes.txt"}
    for path in (big, small):
        resource = made[path.name]
        assert resource["url_type"] == "upload" and resource["size"] == path.stat().st_size
        assert f"{path}: " in output and f"in resource {resource['id']}" in output
        head = s3.head_object(Bucket=BUCKET, Key=resource["s3_key"])
        assert head["Metadata"]["ckan-user"] == env.publisher["name"]
    # 5 MiB parts, as the browser plans them; big in three, small in one
    assert sorted(p.size for p in part_puts(s3_proxy)) == [100, 2 * MiB + 7, 5 * MiB, 5 * MiB]
    keys_used = {p.access_key for p in part_puts(s3_proxy)}
    if mode == "sts":
        # signed by the client with temporary credentials from AssumeRole
        assert len(sts_recorder.calls) > assumed and store.access_key not in keys_used
    else:  # presigned by the server with its own keys
        assert len(sts_recorder.calls) == assumed and keys_used == {store.access_key}

    target = tmp_path / "downloads"
    target.mkdir()
    for path in (big, small):
        output = client(cache, "download", "--resource", made[path.name]["id"], "-o",
                        str(target), user=env.publisher, url=live_ckan)
        assert (target / path.name).read_bytes() == path.read_bytes()
        assert f"{target / path.name}: " in output
    # counted as downloads, like a browser's
    stats = call_action("s3multipart_download_stats", id=made["notes.txt"]["id"])
    assert stats["total"] == 1


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_an_empty_file(mode, env, live_ckan, ckan_config, monkeypatch, tmp_path, cache):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    path = make_file(tmp_path, "empty.csv", 0)
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    (resource,) = resources()
    assert resource["size"] == 0
    client(cache, "download", "--resource", resource["id"], "-o", str(tmp_path / "got"),
           user=env.publisher, url=live_ckan)
    assert (tmp_path / "got").read_bytes() == b""


def test_download_to_a_file_name_and_by_default_here(env, live_ckan, tmp_path, cache,
                                                     monkeypatch):
    path = make_file(tmp_path, "data.csv", 10)
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    (resource,) = resources()
    client(cache, "download", "--resource", resource["id"], "-o", str(tmp_path / "copy.csv"),
           user=env.publisher, url=live_ckan)
    assert (tmp_path / "copy.csv").read_bytes() == path.read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    client(cache, "download", "--resource", resource["id"], user=env.publisher, url=live_ckan)
    assert (elsewhere / "data.csv").read_bytes() == path.read_bytes()
    assert not list(elsewhere.glob("*.part"))


def test_replacing_a_resources_file(env, live_ckan, tmp_path, cache):
    first = make_file(tmp_path, "v1.csv", 50)
    client(cache, "upload", "--dataset", "big-data", str(first), user=env.publisher,
           url=live_ckan)
    (resource,) = resources()
    call_action("resource_patch", {"user": env.sysadmin["name"]}, id=resource["id"],
                description="kept")
    second = make_file(tmp_path, "v2.csv", 70)
    # the dataset comes from the resource
    client(cache, "upload", "--resource-id", resource["id"], str(second), user=env.publisher,
           url=live_ckan)
    (after,) = resources()
    assert after["id"] == resource["id"] and after["s3_key"] != resource["s3_key"]
    assert after["size"] == 70 and after["description"] == "kept"
    client(cache, "download", "--resource", resource["id"], "-o", str(tmp_path / "got"),
           user=env.publisher, url=live_ckan)
    assert (tmp_path / "got").read_bytes() == second.read_bytes()


def test_running_the_same_upload_again_does_not_duplicate(env, live_ckan, tmp_path, cache):
    path = make_file(tmp_path, "once.bin", 10)
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    output = client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
                    url=live_ckan)
    (resource,) = resources()
    assert f"already uploaded as resource {resource['id']} (an earlier run)" in output
    # a changed file is a new upload
    path.write_bytes(b"changed!")
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    assert len(resources()) == 2


def test_an_outsider_is_refused_with_the_servers_message(env, live_ckan, tmp_path, cache,
                                                         s3_proxy):
    path = make_file(tmp_path, "nope.bin", 10)
    output = client(cache, "upload", "--dataset", "big-data", str(path), user=env.outsider,
                    url=live_ckan, status=1)
    assert output.startswith("Error: CKAN refused s3multipart_credentials: ")
    assert f"User {env.outsider['name']} may not upload files to dataset 'big-data'" in output
    assert len(output.strip().splitlines()) == 1
    assert resources() == [] and part_puts(s3_proxy) == []


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_an_outsider_is_refused_in_presigned_mode_too(env, live_ckan, tmp_path, cache):
    path = make_file(tmp_path, "nope.bin", 10)
    output = client(cache, "upload", "--dataset", "big-data", str(path), user=env.outsider,
                    url=live_ckan, status=1)
    assert output.startswith("Error: CKAN refused s3multipart_credentials: ")
    assert "may not upload files" in output


def test_refusals_and_mistakes_are_one_line(env, live_ckan, tmp_path, cache):
    path = make_file(tmp_path, "x.bin", 10)
    output = client(cache, "upload", "--dataset", "big-data", str(path),
                    user={"token": "not-a-token"}, url=live_ckan, status=1)
    assert output.strip() == ("Error: CKAN refused s3multipart_credentials: Access denied: Log in "
                              "to upload files (is the API token valid for this site?)")
    output = client(cache, "upload", "--dataset", "no-such-data", str(path),
                    user=env.publisher, url=live_ckan, status=1)
    assert "Dataset not found: no-such-data" in output
    output = client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
                    url=live_ckan + "/nothing-here", status=1)
    assert output.strip() == (f"Error: {live_ckan}/nothing-here answered 405 to "
                              "s3multipart_credentials without CKAN's JSON; is --ckan-url the "
                              "site's root URL?")
    output = client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
                    url="http://127.0.0.1:9", status=1)
    assert output.strip() == "Error: cannot reach CKAN at http://127.0.0.1:9 (ConnectionError)"
    output = client(cache, "upload", str(path), user=env.publisher, url=live_ckan, status=2)
    assert "give --dataset NAME (or --resource-id ID)" in output


def test_a_private_file_is_not_downloaded_by_others(env, live_ckan, tmp_path, cache):
    secret = factories.Dataset(owner_org=env.org["id"], name="secret-data", private=True)
    path = make_file(tmp_path, "secret.csv", 10)
    client(cache, "upload", "--dataset", "secret-data", str(path), user=env.publisher,
           url=live_ckan)
    (resource,) = resources(secret["id"])
    output = client(cache, "download", "--resource", resource["id"], "-o",
                    str(tmp_path / "stolen"), user=env.outsider, url=live_ckan, status=1)
    assert output.startswith("Error: CKAN refused resource_show: ")
    assert not (tmp_path / "stolen").exists()


def test_expiring_credentials_are_renewed_for_the_same_prefix(env, live_ckan, monkeypatch,
                                                             tmp_path, cache):
    issued: list[str] = []
    real_issue = credentials.issue

    def short_lived(prefix: str, user_name: str) -> dict[str, Any]:
        issued.append(prefix)
        answer = real_issue(prefix, user_name)
        soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=90)
        answer["Credentials"]["Expiration"] = soon.isoformat()
        return answer

    monkeypatch.setattr(credentials, "issue", short_lived)
    path = make_file(tmp_path, "long.bin", 11 * MiB)
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    (resource,) = resources()
    # the first answer, then renewals (CKAN was asked again before each S3 call made
    # within two minutes of expiry), all for the upload's own prefix
    assert len(issued) > 1 and set(issued) == {issued[0]}
    assert resource["s3_key"].startswith(issued[0])


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_failed_part_puts_are_retried(mode, env, live_ckan, s3_proxy, ckan_config, monkeypatch,
                                      tmp_path, cache, s3):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    monkeypatch.setattr(retry_policy, "backoff", lambda retry: 0.01)
    s3_proxy.reset(fail_rate=0.4, fail_limit=3, seed=7)
    path = make_file(tmp_path, "flaky.bin", 16 * MiB)
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    failures = [p for p in s3_proxy.puts if p.status in (500, 503)]
    assert failures, "no failure was injected"
    (resource,) = resources()
    assert s3.get_object(Bucket=BUCKET, Key=resource["s3_key"])["Body"].read() == \
        path.read_bytes()


@pytest.mark.stores("rgw")  # moto accepts any signature
@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_a_part_url_the_store_refuses_as_expired_is_signed_again(env, live_ckan, s3_proxy,
                                                               monkeypatch, tmp_path, cache, s3):
    """Ceph RGW answers an expired URL with a bare 403 AccessDenied; the proxy damages the
    signature of part 1's first PUT, which RGW refuses the same way."""
    monkeypatch.setattr(retry_policy, "backoff", lambda retry: 0.01)
    spoiled: list = []

    def spoil(part) -> bool:
        if part.part_number == 1 and not spoiled:
            spoiled.append(part)
            return True
        return False

    s3_proxy.reset(spoil=spoil)
    path = make_file(tmp_path, "signed again.bin", 11 * MiB)
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    assert [p.status for p in s3_proxy.puts if p.part_number == 1] == [403, 200]
    (resource,) = resources()
    assert s3.get_object(Bucket=BUCKET, Key=resource["s3_key"])["Body"].read() == \
        path.read_bytes()


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_a_part_that_keeps_failing_stops_the_upload(env, live_ckan, s3_proxy, monkeypatch,
                                                    tmp_path, cache):
    monkeypatch.setattr(retry_policy, "backoff", lambda retry: 0.01)
    s3_proxy.reset(fail_rate=1.0)
    path = make_file(tmp_path, "doomed.bin", 100)
    output = client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
                    url=live_ckan, status=1)
    last = "S3 answered (503 SlowDown|500 InternalError): injected failure"
    assert re.fullmatch(f"Error: {re.escape(str(path))}: part 1 failed 6 times \\(last: {last}\\); "
                        r"run the same command again to resume \(0 of 1 parts are uploaded\)",
                        output.strip().splitlines()[-1]), output
    assert len(s3_proxy.puts) == 6 and resources() == []


# Checksums --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_the_resource_records_the_files_sha256_and_a_download_checks_it(
        mode, env, live_ckan, ckan_config, monkeypatch, tmp_path, cache):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    path = make_file(tmp_path, "survey.bin", 11 * MiB + 1)
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    (resource,) = resources()
    assert resource["hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert resource["hash_algorithm"] == "sha256"
    output = client(cache, "download", "--resource", resource["id"], "-o",
                    str(tmp_path / "back"), user=env.publisher, url=live_ckan)
    assert "(SHA-256 matches the resource's)" in output


@pytest.mark.stores("rgw")  # moto would store the changed byte: it ignores Content-MD5
@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_a_part_changed_on_the_way_is_refused_and_sent_again(
        mode, env, live_ckan, s3_proxy, ckan_config, monkeypatch, tmp_path, cache, s3):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    monkeypatch.setattr(retry_policy, "backoff", lambda retry: 0.01)
    path = make_file(tmp_path, "survey.bin", 11 * MiB)
    s3_proxy.reset(flip=first_tries(2, count=2))
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    assert [p.status for p in s3_proxy.puts if p.part_number == 2] == [400, 400, 200]
    (resource,) = resources()
    assert s3.get_object(Bucket=BUCKET, Key=resource["s3_key"])["Body"].read() == \
        path.read_bytes()


@pytest.mark.stores("rgw")
@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_a_part_refused_every_time_stops_the_upload_naming_it(
        mode, env, live_ckan, s3_proxy, ckan_config, monkeypatch, tmp_path, cache):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    monkeypatch.setattr(retry_policy, "backoff", lambda retry: 0.01)
    path = make_file(tmp_path, "survey.bin", 11 * MiB)
    s3_proxy.reset(flip=lambda part: part.part_number == 3)
    output = client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
                    url=live_ckan, status=1)
    assert f"part 3 of {path} was refused {retry_policy.ATTEMPTS} times" in output
    assert "the file is changing or the disk (or memory) is failing" in output
    assert len([p for p in s3_proxy.puts if p.part_number == 3]) == retry_policy.ATTEMPTS
    assert resources() == []


def test_a_download_that_does_not_match_the_resources_sha256_fails(env, live_ckan, tmp_path,
                                                                  cache, s3):
    path = make_file(tmp_path, "survey.bin", 1000)
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    (resource,) = resources()
    # Replaced behind CKAN's back, same length: only the checksum tells.
    s3.put_object(Bucket=BUCKET, Key=resource["s3_key"], Body=os.urandom(1000))
    output = client(cache, "download", "--resource", resource["id"], "-o",
                    str(tmp_path / "got"), user=env.publisher, url=live_ckan, status=1)
    assert output.strip().splitlines()[-1].startswith(
        f"Error: checksum mismatch: resource {resource['id']} records SHA-256 "
        f"{resource['hash']}, the download is ")
    assert not (tmp_path / "got").exists()
    assert (tmp_path / "got.part").stat().st_size == 1000  # kept for inspection


def test_a_file_changed_during_its_upload_makes_no_resource(env, live_ckan, s3_proxy, tmp_path,
                                                            cache):
    path = make_file(tmp_path, "moving.bin", 11 * MiB)
    s3_proxy.reset(delay=1.0)
    process = start_client(cache, live_ckan, env.publisher, "--dataset", "big-data", str(path))
    wait_for_parts(s3_proxy, 1, process, stored=False)
    with open(path, "r+b") as f:
        f.write(b"edited while uploading")
    output = process.communicate(timeout=120)[0]
    assert process.returncode == 1, output
    assert output.strip().splitlines()[-1] == (
        f"Error: {path} changed while it was uploaded; run the same command again to upload "
        "it as it is now")
    assert resources() == []


# Resume -----------------------------------------------------------------------------------

def saved_state(cache: pathlib.Path) -> dict[str, Any]:
    (state,) = (cache / "s3multipart").glob("*.json")
    return json.loads(state.read_text())


@pytest.mark.parametrize("mode, stop", [("sts", signal.SIGKILL), ("presigned", signal.SIGINT)])
def test_an_interrupted_upload_resumes_where_it_stopped(mode, stop, env, live_ckan, s3_proxy,
                                                        ckan_config, monkeypatch, tmp_path,
                                                        cache, s3):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    path = make_file(tmp_path, "huge.bin", 30 * MiB + 3)  # 7 parts of 5 MiB
    s3_proxy.reset(delay=0.4)
    process = start_client(cache, live_ckan, env.publisher, "--dataset", "big-data",
                           "--concurrency", "2", str(path))
    wait_for_parts(s3_proxy, 2, process)
    process.send_signal(stop)
    output = process.communicate(timeout=60)[0]
    settle(s3_proxy)
    assert "Traceback" not in output, output
    if stop == signal.SIGINT:
        assert process.returncode == 130
        assert "Interrupted: run the same command again to resume." in output
    assert resources() == []

    state = saved_state(cache)
    assert state["mode"] == mode and not state.get("completed")
    listed = s3.list_parts(Bucket=BUCKET, Key=state["key"], UploadId=state["upload_id"])
    # whole parts only: one cut short by the kill is sent again
    stored = {p["PartNumber"] for p in listed.get("Parts", [])
              if p["Size"] == (5 * MiB if p["PartNumber"] < 7 else 3)}
    assert 2 <= len(stored) < 7

    s3_proxy.reset()
    output = client(cache, "upload", "--dataset", "big-data", "--concurrency", "2", str(path),
                    user=env.publisher, url=live_ckan)
    assert f"resuming, {len(stored)} of 7 parts already uploaded" in output
    # only the missing parts were sent again, into the same upload
    sent = part_puts(s3_proxy)
    assert {p.upload_id for p in sent} == {state["upload_id"]}
    assert sorted(p.part_number for p in sent) == sorted(set(range(1, 8)) - stored)
    (resource,) = resources()
    assert resource["s3_key"] == state["key"]

    client(cache, "download", "--resource", resource["id"], "-o", str(tmp_path / "back"),
           user=env.publisher, url=live_ckan)
    assert (tmp_path / "back").read_bytes() == path.read_bytes()


def test_a_stored_part_whose_local_bytes_changed_is_sent_again(env, live_ckan, s3_proxy,
                                                                tmp_path, cache, s3):
    """Same size and modification time, other bytes (a disk that changed under the same
    name): resuming checks each stored part's ETag against the local bytes' MD5."""
    path = make_file(tmp_path, "drift.bin", 11 * MiB)  # 3 parts
    s3_proxy.reset(delay=1.5)
    process = start_client(cache, live_ckan, env.publisher, "--dataset", "big-data",
                           "--concurrency", "1", str(path))
    wait_for_parts(s3_proxy, 1, process)
    process.kill()
    process.communicate(timeout=60)
    settle(s3_proxy)
    state = saved_state(cache)
    listed = s3.list_parts(Bucket=BUCKET, Key=state["key"], UploadId=state["upload_id"])
    assert 1 in {p["PartNumber"] for p in listed["Parts"]}
    before = path.stat()
    with open(path, "r+b") as f:
        f.write(b"X" * 10)  # inside part 1
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    s3_proxy.reset()
    client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
           url=live_ckan)
    assert 1 in {p.part_number for p in part_puts(s3_proxy, state["upload_id"])}
    (resource,) = resources()
    assert resource["s3_key"] == state["key"]
    assert s3.get_object(Bucket=BUCKET, Key=state["key"])["Body"].read() == path.read_bytes()
    assert resource["hash"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_upload_that_cannot_resume_starts_again(env, live_ckan, s3_proxy, tmp_path, cache,
                                                   s3):
    path = make_file(tmp_path, "again.bin", 6 * MiB)
    s3_proxy.reset(delay=2.0)
    process = start_client(cache, live_ckan, env.publisher, "--dataset", "big-data", str(path))
    # Killed while its parts are held: had both been stored, it might have completed.
    wait_for_parts(s3_proxy, 1, process, stored=False)
    process.kill()
    process.communicate(timeout=60)
    settle(s3_proxy)
    state = saved_state(cache)
    # e.g. `ckan s3multipart abort-stale` ran in between
    s3.abort_multipart_upload(Bucket=BUCKET, Key=state["key"], UploadId=state["upload_id"])
    s3_proxy.reset()
    output = client(cache, "upload", "--dataset", "big-data", str(path), user=env.publisher,
                    url=live_ckan)
    assert "the earlier upload cannot be resumed" in output and "starting again" in output
    (resource,) = resources()
    assert resource["size"] == 6 * MiB and resource["s3_key"] != state["key"]


def test_the_client_runs_without_ckan():
    result = subprocess.run([sys.executable, "-c", NO_CKAN, "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "upload" in result.stdout and "download" in result.stdout
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="s3multipart")
    assert script.load() is main
