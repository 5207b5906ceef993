"""`s3multipart upload --dataset NAME DIR...`: folders into resources, over real HTTP.

A folder's files become resources named by their paths from the folder, under one batch
prefix with one STS call for the batch; system files and files the dataset has are
skipped; a second run uploads nothing; a killed run resumes its unfinished files; a file
that cannot be stored or vanishes is reported while the others go on (exit status 1).
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import signal
import time

import pytest

from ckanext.s3multipart.tests.support import BUCKET

from .commands import MiB, client, part_puts, resources, settle, start_client, wait_for_parts

pytestmark = pytest.mark.usefixtures("store", "with_plugins")

SURVEY = {  # a folder of mixed sizes in nested folders
    "2024/01/day.csv": 1024,
    "2024/02/day.csv": 6 * MiB + 11,
    "2024/02/empty.csv": 0,
    "notes/readme.md": 300,
    "notes/.DS_Store": 10,
    "__MACOSX/2024/._day.csv": 10,
}
SYSTEM = {"survey/notes/.DS_Store", "survey/__MACOSX/2024/._day.csv"}


def make_tree(root: pathlib.Path, files: dict[str, int]) -> dict[str, bytes]:
    contents = {}
    for name, size in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        contents[name] = os.urandom(size)
        path.write_bytes(contents[name])
    return contents


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_a_folder_becomes_resources_named_by_their_paths(mode, env, live_ckan, s3_proxy,
                                                          sts_recorder, ckan_config,
                                                          monkeypatch, tmp_path, cache, s3):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    contents = make_tree(tmp_path / "survey", SURVEY)
    (tmp_path / "extra.csv").write_bytes(b"a,b\n")
    assumed = len(sts_recorder.calls)

    output = client(cache, "upload", "--dataset", "big-data", str(tmp_path / "survey"),
                    str(tmp_path / "extra.csv"), user=env.publisher, url=live_ckan)

    expected = {f"survey/{n}": data for n, data in contents.items()
                if f"survey/{n}" not in SYSTEM}
    expected["extra.csv"] = b"a,b\n"
    made = {r["name"]: r for r in resources()}
    assert set(made) == set(expected)
    prefixes = set()
    for name, data in expected.items():
        resource = made[name]
        assert resource["size"] == len(data)
        assert resource["hash"] == hashlib.sha256(data).hexdigest()
        assert s3.get_object(Bucket=BUCKET, Key=resource["s3_key"])["Body"].read() == data
        prefix, _, path = resource["s3_key"].partition(env.prefix)[2].partition("/")
        assert path == name
        prefixes.add(prefix)
        assert f"{name}: " in output and f"in resource {resource['id']}" in output
    assert len(prefixes) == 1  # one batch
    for name in SYSTEM:
        assert f"{name}: skipped (a system file" in output
    assert "7 files: 5 uploaded" in output and "2 system files skipped, 0 failed" in output
    if mode == "sts":
        assert len(sts_recorder.calls) - assumed == 1  # one credential for the whole batch
    else:
        assert len(sts_recorder.calls) == assumed

    # Run again: every file is there already, nothing is sent.
    s3_proxy.reset()
    output = client(cache, "upload", "--dataset", "big-data", str(tmp_path / "survey"),
                    str(tmp_path / "extra.csv"), user=env.publisher, url=live_ckan)
    assert part_puts(s3_proxy) == []
    assert output.count("skipped (the dataset has it") == 5
    assert len(resources()) == 5


@pytest.mark.ckan_config("ckanext.s3multipart.max_size", str(16 * MiB))
def test_files_that_fail_are_reported_while_the_others_go_on(env, live_ckan, s3_proxy,
                                                             tmp_path, cache):
    make_tree(tmp_path / "d", {"a-big.bin": 15 * MiB, "b-gone.csv": 10, "c-ok.csv": 20,
                               "d-large.bin": 16 * MiB + 1})
    os.mkfifo(tmp_path / "d" / "e-pipe")
    # a-big.bin is sent slowly, alone (--files-concurrency 1), while b-gone.csv vanishes.
    s3_proxy.reset(delay=0.5)
    process = start_client(cache, live_ckan, env.publisher, "--dataset", "big-data",
                           "--files-concurrency", "1", "--concurrency", "1",
                           str(tmp_path / "d"))
    wait_for_parts(s3_proxy, 1, process, stored=False)
    (tmp_path / "d" / "b-gone.csv").unlink()
    output = process.communicate(timeout=120)[0]
    assert "Traceback" not in output, output
    assert process.returncode == 1, output
    assert "d/b-gone.csv: FAILED: vanished during the upload" in output
    assert "d/d-large.bin: FAILED: " in output and "largest file this site accepts" in output
    assert "d/e-pipe: FAILED: is not a regular file" in output
    assert "3 file(s) failed" in output
    assert sorted(r["name"] for r in resources()) == ["d/a-big.bin", "d/c-ok.csv"]
    assert "5 files: 2 uploaded" in output


def test_a_killed_batch_resumes_its_unfinished_files_and_skips_the_finished(
        env, live_ckan, s3_proxy, tmp_path, cache, s3):
    make_tree(tmp_path / "d", {"a.csv": 5, "b.bin": 30 * MiB + 6, "c.bin": 20 * MiB + 7})
    s3_proxy.reset(delay=1.5)
    process = start_client(cache, live_ckan, env.publisher, "--dataset", "big-data",
                           "--files-concurrency", "1", "--concurrency", "2",
                           str(tmp_path / "d"))
    # a.csv is a resource (made within seconds of its upload) and b.bin half sent.
    deadline = time.monotonic() + 60
    while not resources() or len(part_puts(s3_proxy)) < 3:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    settle(s3_proxy)
    assert [r["name"] for r in resources()] == ["d/a.csv"]
    stored = {(p.upload_id, p.part_number) for p in part_puts(s3_proxy)}

    s3_proxy.reset()
    output = client(cache, "upload", "--dataset", "big-data", "--files-concurrency", "2",
                    str(tmp_path / "d"), user=env.publisher, url=live_ckan)
    assert "d/a.csv: skipped (the dataset has it" in output
    assert "d/b.bin: resuming" in output.replace(str(tmp_path) + "/", "")
    resent = {(p.upload_id, p.part_number) for p in part_puts(s3_proxy)}
    assert not resent & stored  # no part stored before is sent again
    assert len(resent) == 1 + 7 + 5 - len(stored)  # a.csv, b.bin and c.bin have 13 parts
    made = {r["name"]: r for r in resources()}
    assert set(made) == {"d/a.csv", "d/b.bin", "d/c.bin"}
    for name, resource in made.items():
        data = (tmp_path / name).read_bytes()
        assert s3.get_object(Bucket=BUCKET, Key=resource["s3_key"])["Body"].read() == data
        assert resource["hash"] == hashlib.sha256(data).hexdigest()


def test_two_files_of_the_same_name_are_refused_the_second_time(env, live_ckan, tmp_path,
                                                                cache):
    make_tree(tmp_path / "one" / "d", {"x.csv": 3})
    make_tree(tmp_path / "two" / "d", {"x.csv": 4, "y.csv": 5})
    output = client(cache, "upload", "--dataset", "big-data", str(tmp_path / "one" / "d"),
                    str(tmp_path / "two" / "d"), user=env.publisher, url=live_ckan, status=1)
    assert "d/x.csv: FAILED: is given twice" in output
    assert sorted((r["name"], r["size"]) for r in resources()) == [("d/x.csv", 3),
                                                                   ("d/y.csv", 5)]
