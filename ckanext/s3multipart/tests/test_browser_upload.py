"""The Large file widget in headless Chromium against a live CKAN and moto's S3.

Real parts everywhere: Playwright drives Debian's Chromium, CKAN serves over HTTP with
PostgreSQL and Redis, and parts go over HTTP to moto through a proxy that can fail,
slow down or expire some of them.
"""
from __future__ import annotations

import hashlib
import os
import pathlib

import pytest

from .conftest import BUCKET, log_in

MiB = 1024 * 1024
pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("files") / "Grand survey 2024.bin"
    path.write_bytes(os.urandom(32 * MiB + 12345))
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_form(page, env) -> None:
    log_in(page, env.publisher)
    page.goto(f"/dataset/{env.dataset['name']}/resource/new")
    page.click("#resource-s3multipart-button")


def upload(page, path: pathlib.Path) -> str:
    widget = page.locator('[data-module="s3multipart"]')
    widget.locator("input[type=file]").set_input_files(str(path))
    page.wait_for_function(
        "document.querySelector('input[name=s3_key]').value !== ''"
        " || document.querySelector('.s3multipart-failed')", timeout=int(os.environ.get("UPLOAD_TIMEOUT_MS", "180000")))
    status = widget.locator(".s3multipart-status").inner_text()
    assert "Uploaded" in status, status
    return page.locator("input[name=s3_key]").input_value()


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
    assert resource["name"] == "Grand survey 2024.bin"
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert sha256(body) == sha256(big_file.read_bytes())
    assert_no_multipart_left(s3, env.prefix)
