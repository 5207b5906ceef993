"""The "Upload files" page in headless Chromium: a folder into resources, on each store.

A folder of 60 files (empty, 1 KiB, 6 MiB and 40 MiB, in nested folders, with system
files beside them) chosen with the folder input becomes 60 resources with the right
names, sizes and SHA-256s, the bytes in S3 the files'; choosing it again skips every file;
pause stops new parts and resume finishes; a reload half way followed by choosing the
folder again resumes it (finished files skipped, the unfinished from the parts S3 holds);
failing parts are retried and a file that vanishes fails alone.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import time

import pytest
from ckan.tests.helpers import call_action
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ..support import BUCKET, log_in

MiB = 1024 * 1024
pytestmark = pytest.mark.usefixtures("store", "with_plugins")
FINAL = ("done", "skipped", "failed")


def make_folder(root: pathlib.Path, sizes: dict[str, int]) -> pathlib.Path:
    for name, size in sizes.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
    return root


@pytest.fixture(scope="module")
def survey(tmp_path_factory) -> pathlib.Path:
    """60 files of mixed sizes in nested folders, and two system files."""
    sizes = {f"{year}/empty-{n}.csv": 0 for year in (2023, 2024) for n in range(3)}
    sizes |= {f"{year}/{month:02}/day-{n}.csv": 1024 for year in (2023, 2024)
              for month in range(1, 6) for n in range(5)}
    sizes |= {f"raw/part-{n}.nc": 6 * MiB + n for n in range(2)}
    sizes |= {"raw/big/all.nc": 40 * MiB + 3, "raw/big/all-2.nc": 40 * MiB + 5}
    assert len(sizes) == 6 + 50 + 4 == 60
    sizes |= {"2024/.DS_Store": 6, "__MACOSX/2024/._day-0.csv": 8}
    return make_folder(tmp_path_factory.mktemp("folders") / "survey", sizes)


def files_of(folder: pathlib.Path) -> dict[str, bytes]:
    """{name in the batch: bytes} of the folder's files that are not system files."""
    return {f"{folder.name}/{p.relative_to(folder).as_posix()}": p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()
            and p.name != ".DS_Store" and "__MACOSX" not in p.parts}


def open_page(page, env) -> None:
    log_in(page, env.publisher)
    page.goto(f"/dataset/{env.dataset['name']}")
    page.get_by_role("link", name="Upload files").click()
    page.wait_for_selector('[data-module="s3multipart-batch"].s3multipart-ready')


def choose_folder(page, folder: pathlib.Path) -> None:
    # Once the module listens (after a reload too): files chosen before are never seen.
    page.wait_for_selector('[data-module="s3multipart-batch"].s3multipart-ready')
    page.locator('[data-module="s3multipart-batch"] input[webkitdirectory]').set_input_files(
        str(folder))


def states(page) -> dict[str, str]:
    return page.eval_on_selector_all("[data-s3multipart-file]", "rows => Object.fromEntries("
                                     "rows.map(r => [r.dataset.name, r.dataset.state]))")


def wait_until_final(page, count: int, timeout_s: float = 240) -> dict[str, str]:
    try:
        page.wait_for_function(
            "([count, final]) => { const rows = document.querySelectorAll("
            "'[data-s3multipart-file]'); return rows.length === count"
            " && [...rows].every(r => final.includes(r.dataset.state)) }",
            arg=[count, list(FINAL)], timeout=int(timeout_s * 1000))
    except PlaywrightTimeout:
        rows = page.eval_on_selector_all("[data-s3multipart-file]", "rows => rows.map(r => "
                                         "`${r.dataset.name} ${r.dataset.state} ${r.innerText}`)")
        summary = page.locator(".s3multipart-summary").inner_text()
        pytest.fail(f"the batch did not end: {summary!r}; {len(rows)} rows: "
                    + "; ".join(r for r in rows if " done " not in r)[:3000])
    return states(page)


def assert_resources_are(expected: dict[str, bytes], s3, env) -> None:
    made = {r["name"]: r for r in call_action("package_show", id=env.dataset["id"])["resources"]}
    assert set(made) == set(expected)
    for name, data in expected.items():
        resource = made[name]
        assert resource["size"] == len(data), name
        assert resource["hash"] == hashlib.sha256(data).hexdigest(), name
        assert resource["s3_key"].startswith(env.prefix), name
        assert resource["s3_key"].endswith("/" + name), name
        body = s3.get_object(Bucket=BUCKET, Key=resource["s3_key"])["Body"].read()
        assert body == data, name


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_a_folder_becomes_its_resources_and_a_second_time_is_skipped(
        page, env, s3, s3_proxy, survey, ckan_config, monkeypatch, mode):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    expected = files_of(survey)
    open_page(page, env)
    choose_folder(page, survey)
    final = wait_until_final(page, 62)
    assert final["survey/2024/.DS_Store"] == "skipped"
    assert final["survey/__MACOSX/2024/._day-0.csv"] == "skipped"
    assert sorted(n for n, s in final.items() if s == "done") == sorted(expected), [
        page.locator(f"[data-name=\"{n}\"]").inner_text() for n, s in final.items() if s != "done"]
    assert page.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
    assert "60 of 60 files" in page.locator(".s3multipart-summary").inner_text()
    assert_resources_are(expected, s3, env)
    # STS mode sends a file of one part (the empty and 1 KiB ones) in one PutObject.
    whole = [p for p in s3_proxy.ok_puts() if p.upload_id.startswith("object:")]
    assert len(whole) == (56 if mode == "sts" else 0), len(whole)
    assert len({r["s3_key"].split("/")[2] for r in call_action(
        "package_show", id=env.dataset["id"])["resources"]}) == 1  # one batch prefix

    # The same folder again, on a fresh page: every file is there already.
    s3_proxy.reset()
    page.reload()
    choose_folder(page, survey)
    final = wait_until_final(page, 62)
    assert set(final.values()) == {"skipped"}
    assert s3_proxy.puts == []
    assert len(call_action("package_show", id=env.dataset["id"])["resources"]) == 60


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_pause_stops_new_parts_and_resume_finishes(page, env, s3, s3_proxy, tmp_path,
                                                   ckan_config, monkeypatch, mode):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    folder = make_folder(tmp_path / "d", {"a.bin": 30 * MiB + 1, "b.bin": 30 * MiB + 2,
                                          "c.csv": 10})
    s3_proxy.reset(delay=0.5)
    open_page(page, env)
    choose_folder(page, folder)
    page.wait_for_function("document.querySelectorAll('[data-state=uploading]').length === 2"
                           " && document.querySelector('[role=progressbar]')"
                           ".getAttribute('aria-valuenow') > '0'")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function("document.querySelectorAll('[data-state=paused]').length === 2")
    assert states(page)["d/c.csv"] == "queued"
    time.sleep(1.5)  # parts in flight when paused have landed or been dropped
    sent = len(s3_proxy.puts)
    time.sleep(2)
    assert len(s3_proxy.puts) == sent, "parts were sent while paused"
    assert page.get_by_role("button", name="Pause").is_hidden()
    s3_proxy.reset()
    page.get_by_role("button", name="Resume").click()
    final = wait_until_final(page, 3)
    assert set(final.values()) == {"done"}
    assert_resources_are(files_of(folder), s3, env)


def test_a_reload_half_way_then_the_same_folder_resumes_the_batch(page, env, s3, s3_proxy,
                                                                  tmp_path, ckan_config,
                                                                  monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.concurrency", "2")
    # b.bin takes longer to send than a.csv to become a resource (2 s after its upload).
    folder = make_folder(tmp_path / "d", {"a.csv": 100, "b.bin": 50 * MiB + 7,
                                          "c.bin": 12 * MiB})
    s3_proxy.reset(delay=1.5)
    open_page(page, env)
    choose_folder(page, folder)
    page.wait_for_function("document.querySelector('[data-name=\"d/a.csv\"]')"
                           "?.dataset.state === 'done'")
    page.wait_for_function("document.querySelector('[data-name=\"d/b.bin\"]')"
                           "?.dataset.state === 'uploading'")
    while len([p for p in s3_proxy.ok_puts() if p.size == 5 * MiB]) < 2:
        time.sleep(0.1)
    page.reload()
    time.sleep(1.5)  # the parts in flight at the reload land or are dropped
    before = {(p.upload_id, p.part_number) for p in s3_proxy.ok_puts()}
    s3_proxy.reset()
    choose_folder(page, folder)
    final = wait_until_final(page, 3)
    # c.bin (after a.csv) may have finished before the reload too.
    assert (final["d/a.csv"], final["d/b.bin"]) == ("skipped", "done")
    assert final["d/c.bin"] in ("skipped", "done")
    again = {(p.upload_id, p.part_number) for p in s3_proxy.ok_puts()}
    assert not again & before, "parts S3 held were sent again"
    assert {u for u, _ in again} & {u for u, _ in before}, "no upload was resumed"
    assert_resources_are(files_of(folder), s3, env)


def test_failing_parts_are_retried_and_a_vanishing_file_fails_alone(
        page, env, s3, s3_proxy, tmp_path, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.files_concurrency", "1")
    folder = make_folder(tmp_path / "d", {"a.bin": 20 * MiB + 1, "b.csv": 50,
                                          "c.csv": 60})
    s3_proxy.reset(delay=0.3, fail_rate=1.0, fail_limit=1)  # each part fails once
    open_page(page, env)
    choose_folder(page, folder)
    page.wait_for_function("document.querySelector('[data-name=\"d/a.bin\"]')"
                           "?.dataset.state === 'uploading'")
    (folder / "b.csv").unlink()  # chosen, then gone before its turn
    final = wait_until_final(page, 3)
    assert final == {"d/a.bin": "done", "d/b.csv": "failed", "d/c.csv": "done"}, final
    message = page.locator('[data-name="d/b.csv"] .s3multipart-file-status').inner_text()
    assert "can no longer be read" in message or "could not" in message, message
    assert page.locator('[data-name="d/b.csv"]').get_by_role("button", name="Retry").is_visible()
    failed = [(p.upload_id, p.part_number) for p in s3_proxy.puts if p.status in (500, 503)]
    assert sorted(failed) == sorted((p.upload_id, p.part_number) for p in s3_proxy.ok_puts())
    expected = files_of(folder)
    assert_resources_are(expected, s3, env)
