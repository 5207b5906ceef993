"""The Large file widget in headless Chromium against a live CKAN and each store's S3.

Real parts everywhere: Playwright drives Debian's Chromium, CKAN serves over HTTP with
PostgreSQL and Redis, and parts go over HTTP to the store through a proxy that can fail,
slow down, expire or change some of them. Every part carries its Content-MD5 and the
saved resource the file's SHA-256.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import time

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ...cli.bucket import PART_HEADERS, STS_HEADERS, cors_problems, cors_rule
from ..s3proxy import first_tries
from ..support import BUCKET, log_in

MiB = 1024 * 1024
pytestmark = pytest.mark.usefixtures("store", "with_plugins")


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("files") / "Grand survey 2024.bin"
    path.write_bytes(os.urandom(32 * MiB + 12345))
    return path


@pytest.fixture(scope="module")
def larger_file(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("files") / "larger.bin"
    path.write_bytes(os.urandom(64 * MiB + 1))
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_form(page, env) -> None:
    log_in(page, env.publisher)
    page.goto(f"/dataset/{env.dataset['name']}/resource/new")
    page.click("#resource-s3multipart-button")


def upload(page, path: pathlib.Path, succeeds: bool = True) -> str:
    """Choose the file and wait for the upload to end; the key, or the failure's status."""
    widget = page.locator('[data-module="s3multipart"]')
    widget.locator("input[type=file]").set_input_files(str(path))
    try:
        page.wait_for_function(
            "document.querySelector('input[name=s3_key]').value !== ''"
            " || document.querySelector('.s3multipart-failed')",
            timeout=int(os.environ.get("UPLOAD_TIMEOUT_MS", "180000")))
    except PlaywrightTimeout:
        # Where it stood: the widget's last words (progress, retries) tell a stalled
        # hash, sign or PUT apart.
        last = widget.locator(".s3multipart-status").inner_text()
        pytest.fail(f"the upload did not end: {last!r}, {retries(page)} retries")
    status = widget.locator(".s3multipart-status").inner_text()
    if not succeeds:
        assert page.locator(".s3multipart-failed").count() == 1, status
        return status
    assert "Uploaded" in status, status
    assert page.locator("input[name=hash]").input_value() == sha256(path.read_bytes())
    assert page.locator("input[name=hash_algorithm]").input_value() == "sha256"
    return page.locator("input[name=s3_key]").input_value()


def retries(page) -> int:
    return int(page.locator('[data-module="s3multipart"]').get_attribute("data-retries") or 0)


def assert_no_multipart_left(s3, prefix: str) -> None:
    uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", [])
    assert uploads == []


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_upload_through_the_form_and_save(page, env, s3, big_file, ckan_config, monkeypatch, mode):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    open_form(page, env)
    key = upload(page, big_file)
    assert key.startswith(env.prefix) and key.endswith("/Grand survey 2024.bin")
    assert page.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
    page.click("button[name=save].btn-primary")
    page.wait_for_url(lambda url: "/resource/new" not in url)

    from ckan.tests.helpers import call_action
    dataset = call_action("package_show", id=env.dataset["id"])
    [resource] = dataset["resources"]
    assert resource["s3_key"] == key
    assert resource["size"] == big_file.stat().st_size
    assert resource["name"] == "Grand survey 2024.bin" and resource["format"] == "BIN"
    assert resource["hash"] == sha256(big_file.read_bytes())
    assert resource["hash_algorithm"] == "sha256"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["Metadata"] == {"ckan-site-id": "s3mp-test", "ckan-user": env.publisher["name"],
                                "ckan-package-id": env.dataset["id"]}
    assert_no_multipart_left(s3, env.prefix)

    # The persistent link checks access in CKAN, then redirects to the object.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    download = requests.get(resource["url"], cookies=cookies, timeout=60)
    assert download.history and download.history[0].status_code == 302
    assert sha256(download.content) == sha256(big_file.read_bytes())


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_the_browser_sends_only_the_headers_check_verifies(page, env, s3, s3_proxy, big_file,
                                                           ckan_config, monkeypatch, live_ckan,
                                                           mode):
    """A CORS rule that allows exactly the headers `ckan s3multipart check` verifies
    (sts_headers.json) for the mode passes the check, and an upload with an ACL completes
    under it: no preflight asks for another header."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.acl", "private")
    headers = STS_HEADERS if mode == "sts" else PART_HEADERS["presigned"]
    rule = {**cors_rule(live_ckan), "AllowedHeaders": headers}
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [rule]})
    assert cors_problems([rule], live_ckan, mode) == []
    open_form(page, env)
    key = upload(page, big_file)
    assert s3_proxy.preflight_headers, "the browser sent no CORS preflight"
    assert s3_proxy.preflight_headers <= set(headers)
    assert "content-md5" in s3_proxy.preflight_headers
    if mode == "sts":
        assert "x-amz-acl" in s3_proxy.preflight_headers
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert sha256(body) == sha256(big_file.read_bytes())


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_failing_part_puts_are_retried(page, env, s3, s3_proxy, big_file, ckan_config,
                                       monkeypatch, mode):
    """A quarter of part PUTs answer 503 SlowDown or 500, none more than twice: the upload
    still completes."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    s3_proxy.reset(fail_rate=0.25, fail_limit=2, seed=7)
    open_form(page, env)
    key = upload(page, big_file)
    failed = [p for p in s3_proxy.puts if p.status in (500, 503)]
    assert len(failed) >= 2, [p.status for p in s3_proxy.puts]
    assert retries(page) == len(failed)
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert sha256(body) == sha256(big_file.read_bytes())
    assert_no_multipart_left(s3, env.prefix)


# moto accepts a part whose bytes are not those its Content-MD5 names (no BadDigest): there
# the flipped bytes would be stored, silently corrupting the object. These run on Ceph RGW.
@pytest.mark.stores("rgw")
@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_parts_changed_on_the_way_are_refused_and_sent_again(page, env, s3, s3_proxy, big_file,
                                                           ckan_config, monkeypatch, mode):
    """The proxy flips the last byte of part 2's first two tries and of part 5's first (the
    length kept): the store refuses each with BadDigest, the page sends them again, and the
    object is the file, byte for byte."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    two, five = first_tries(2, count=2), first_tries(5)
    s3_proxy.reset(flip=lambda part: two(part) or five(part))
    open_form(page, env)
    key = upload(page, big_file)
    refused = [p.part_number for p in s3_proxy.puts if p.status == 400]
    assert sorted(refused) == [2, 2, 5]
    assert retries(page) == 3
    assert sorted(p.part_number for p in s3_proxy.ok_puts()) == list(range(1, 8))
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert sha256(body) == sha256(big_file.read_bytes())
    assert_no_multipart_left(s3, env.prefix)


@pytest.mark.stores("rgw")  # moto would store the flipped bytes (see above)
@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_a_part_refused_every_time_stops_the_upload(page, env, s3, s3_proxy, big_file,
                                                    ckan_config, monkeypatch, mode):
    """Every try of part 3 arrives changed, as when the file changes on disk or the disk
    fails: the upload stops, saying so and naming the part; nothing is stored."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    s3_proxy.reset(flip=lambda part: part.part_number == 3)
    open_form(page, env)
    status = upload(page, big_file, succeeds=False)
    assert "part 3 was refused 6 times" in status, status
    assert "the file changed on disk or the disk is failing" in status, status
    assert "BadDigest" in status
    assert [p.status for p in s3_proxy.puts if p.part_number == 3] == [400] * 6
    assert page.locator("input[name=s3_key]").input_value() == ""
    assert page.locator("input[name=hash]").input_value() == ""
    assert not s3.list_objects_v2(Bucket=BUCKET, Prefix=env.prefix).get("Contents")


@pytest.mark.stores("rgw")  # moto checks no signature: it would store the rewritten part
@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_a_part_rewritten_with_its_own_md5_is_refused_and_sent_again(page, env, s3, s3_proxy,
                                                                     big_file, ckan_config,
                                                                     monkeypatch, mode):
    """The proxy replaces part 2's first try with other bytes and their own Content-MD5,
    as someone on the way could: the signature covers the MD5 the page hashed (presigned:
    CKAN's URL; STS: the SDK's headers), so the store refuses it, and the object is the
    file. Ceph RGW sends that 403 without CORS headers, so the page sees a network error
    and sends the part again (a store whose 403 the page can read stops the upload there,
    SignatureDoesNotMatch being final: retry_policy.json)."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    s3_proxy.reset(swap=first_tries(2))
    open_form(page, env)
    key = upload(page, big_file)
    refused = [(p.part_number, p.status, p.code) for p in s3_proxy.puts if p.status != 200]
    # Ceph RGW's words for a signature that does not match: AccessDenied in a URL's query
    # (as for an expired one), SignatureDoesNotMatch in the Authorization header.
    code = "SignatureDoesNotMatch" if mode == "sts" else "AccessDenied"
    assert refused == [(2, 403, code)]
    assert retries(page) == 1
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert sha256(body) == sha256(big_file.read_bytes())
    assert_no_multipart_left(s3, env.prefix)


def test_cancel_aborts_the_multipart_upload(page, env, s3, s3_proxy, big_file):
    s3_proxy.reset(delay=0.5)
    open_form(page, env)
    page.locator('[data-module="s3multipart"] input[type=file]').set_input_files(str(big_file))
    page.wait_for_function("document.querySelector('[role=progressbar]')"
                           ".getAttribute('aria-valuenow') > 0")
    assert s3.list_multipart_uploads(Bucket=BUCKET, Prefix=env.prefix).get("Uploads")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_function("document.querySelector('.s3multipart-status')"
                           ".innerText.includes('Upload cancelled')")
    s3_proxy.reset()  # let parts still held by the proxy go through: they must not revive it
    page.wait_for_timeout(1500)
    assert_no_multipart_left(s3, env.prefix)
    assert page.locator("input[name=s3_key]").input_value() == ""
    saved = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('s3multipart:'))")
    assert saved == []


def test_reload_half_way_then_same_file_resumes(page, env, s3, s3_proxy, larger_file,
                                                ckan_config):
    """Reload while parts are in flight, choose the same file: only missing parts go."""
    s3_proxy.reset(delay=1.0)
    open_form(page, env)
    page.locator('[data-module="s3multipart"] input[type=file]').set_input_files(str(larger_file))
    deadline = time.time() + 60
    while len(s3_proxy.ok_puts()) < 6 and time.time() < deadline:
        time.sleep(0.05)
    screenshot = os.environ.get("S3MP_SCREENSHOT")
    if screenshot:  # the README's picture; bin/test leaves it unset
        page.locator(".resource-upload-field").screenshot(path=screenshot)
    reloaded_at = time.time()
    page.reload()
    done_before = {p.part_number for p in s3_proxy.ok_puts()}
    sent_before = {p.part_number for p in s3_proxy.puts if p.at < reloaded_at}
    assert 6 <= len(done_before) < 13  # about half of the 13 parts
    s3_proxy.delay = 0
    page.click("#resource-s3multipart-button")
    key = upload(page, larger_file)
    concurrency = int(ckan_config["ckanext.s3multipart.concurrency"])
    # Bytes that had been sent before the reload and were stored again after it: at most
    # the parts that were in flight when the page went away.
    resent = sum(p.size for p in s3_proxy.ok_puts()
                 if p.at >= reloaded_at and p.part_number in sent_before)
    assert resent <= concurrency * 5 * MiB
    for number in done_before:  # what S3 had when the page went away was not sent again
        assert [p.part_number for p in s3_proxy.ok_puts()].count(number) == 1
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert sha256(body) == sha256(larger_file.read_bytes())
    assert_no_multipart_left(s3, env.prefix)


def test_expired_credentials_are_refreshed_mid_upload(page, env, s3, s3_proxy, big_file,
                                                      sts_recorder):
    """After three parts the first credentials answer ExpiredToken, as S3 would an hour on."""
    first_key: list[str] = []

    def expired(access_key: str) -> bool:
        if not first_key:
            first_key.append(access_key)
        ok_with_first = [p for p in s3_proxy.puts if p.access_key == first_key[0]
                         and p.status == 200]
        return access_key == first_key[0] and len(ok_with_first) >= 3

    s3_proxy.reset(expire_key=expired)
    calls_before = len(sts_recorder.calls)
    open_form(page, env)
    key = upload(page, big_file)
    assert any(p.status == 400 for p in s3_proxy.puts)
    keys_used = {p.access_key for p in s3_proxy.ok_puts()}
    assert len(keys_used) >= 2
    new_calls = list(sts_recorder.calls.values())[calls_before:]
    assert len(new_calls) >= 2
    prefix = key.rsplit("/", 1)[0] + "/"
    assert all(json.loads(c["Policy"])["Statement"][0]["Resource"].endswith(f"/{prefix}*")
               for c in new_calls)
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert sha256(body) == sha256(big_file.read_bytes())


@pytest.mark.stores("rgw")  # moto accepts any signature
@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_urls_and_credentials_the_store_refuses_are_replaced(page, env, s3, s3_proxy, big_file,
                                                           ckan_config, monkeypatch, mode):
    """Ceph RGW refuses an expired URL or session token with 403 AccessDenied and no CORS
    headers, so the page sees a network error. The proxy damages signatures so that RGW
    refuses, as it would once they expired, every PUT signed with the first credentials
    after one part went through (STS), or with part 2's first URL (presigned): the
    uploader must get fresh ones."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    dead: set[str] = set()

    def spoil(part) -> bool:
        if mode == "sts":
            first = s3_proxy.puts[0].access_key
            if part.access_key == first and any(p.status == 200 for p in s3_proxy.puts):
                dead.add(first)
            return part.access_key in dead
        if part.part_number == 2 and (not dead or part.signature in dead):
            dead.add(part.signature)
            return True
        return False

    s3_proxy.reset(spoil=spoil)
    open_form(page, env)
    key = upload(page, big_file)
    refused = [p for p in s3_proxy.puts if p.status == 403]
    assert refused and dead
    if mode == "sts":
        assert len({p.access_key for p in s3_proxy.ok_puts()}) >= 2
    else:
        assert {p.signature for p in refused} == dead
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert sha256(body) == sha256(big_file.read_bytes())
    assert_no_multipart_left(s3, env.prefix)


@pytest.mark.ckan_config("ckanext.s3multipart.max_size", str(10 * MiB))
def test_file_over_max_size_is_refused_before_any_byte(page, env, s3, s3_proxy, big_file,
                                                       sts_recorder):
    calls_before = len(sts_recorder.calls)
    open_form(page, env)
    page.locator('[data-module="s3multipart"] input[type=file]').set_input_files(str(big_file))
    page.wait_for_selector(".s3multipart-failed")
    status = page.locator(".s3multipart-status").inner_text()
    assert "the largest file this site accepts is 10.0 MiB" in status
    assert s3_proxy.puts == [] and len(sts_recorder.calls) == calls_before
    assert_no_multipart_left(s3, env.prefix)
