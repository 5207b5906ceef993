"""Fixtures: moto's server as the S3 + STS endpoint over real HTTP, CKAN without Solr."""
from __future__ import annotations

import json
import logging
import re
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import boto3
import ckan.lib.search as search
import ckan.tests.factories as factories
import pytest
import requests
from ckan.lib.search.index import NoopSearchIndex
from ckan.lib.search.query import PackageSearchQuery
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from ckanext.s3multipart import storage

BUCKET = "ckan-test-bucket"
ROLE = "arn:aws:iam::123456789012:role/S3MultipartUploadOnly"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's server (S3 and STS) on a free 127.0.0.1 port for the whole run."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="x", aws_secret_access_key="y")
    s3.create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


@pytest.fixture
def s3(moto_url: str) -> Any:
    """A boto3 client of the tests' own, to look at the bucket behind the extension's back."""
    return boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="y")


class StsRecorder:
    """An HTTP proxy in front of moto's STS that records each AssumeRole request.

    moto keeps session policies but never enforces them, so tests read back the exact
    parameters CKAN sent over the wire, keyed by the access key id STS answered with.
    """

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.calls: dict[str, dict[str, str]] = {}

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        answer = requests.post(self.upstream + request.full_path.rstrip("?"), data=body,
                               headers={k: v for k, v in request.headers if k != "Host"},
                               timeout=30)
        params = dict(urllib.parse.parse_qsl(body.decode()))
        match = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", answer.text)
        if params.get("Action") == "AssumeRole" and match:
            self.calls[match.group(1)] = params
        start_response(f"{answer.status_code} {answer.reason}",
                       [("Content-Type", answer.headers.get("Content-Type", "text/xml"))])
        return [answer.content]

    def policy(self, access_key_id: str) -> dict[str, Any]:
        """The session policy sent with the AssumeRole that produced this access key."""
        return json.loads(self.calls[access_key_id]["Policy"])


@pytest.fixture(scope="session")
def sts_recorder(moto_url: str) -> Iterator[StsRecorder]:
    recorder = StsRecorder(moto_url)
    server = make_server("127.0.0.1", free_port(), recorder, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    recorder.url = f"http://127.0.0.1:{server.server_port}"
    yield recorder
    server.shutdown()


@pytest.fixture(autouse=True)
def s3multipart_env(ckan_config, monkeypatch, moto_url: str, sts_recorder: StsRecorder):
    """Point the extension at moto and replace Solr (absent here) with no-ops."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url", moto_url)
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.sts_endpoint_url", sts_recorder.url)
    monkeypatch.setitem(search._INDICES, "package", NoopSearchIndex)

    def no_solr_show(reference: str) -> dict[str, Any]:
        raise search.SearchError("no Solr in tests: package_show reads the database")

    def empty_search(self, query, permission_labels=None, **kwargs) -> dict[str, Any]:
        self.count, self.results, self.facets, self.raw_response = 0, [], {}, {}
        return {"results": [], "count": 0}

    monkeypatch.setattr(search, "show", no_solr_show)
    monkeypatch.setattr(PackageSearchQuery, "run", empty_search)
    storage._client.cache_clear()
    yield
    storage._client.cache_clear()


@pytest.fixture
def env(clean_db, with_plugins, s3multipart_env):
    """A publisher (editor of an enabled organization) with a dataset, and an outsider."""
    sysadmin = factories.SysadminWithToken()
    publisher = factories.UserWithToken()
    outsider = factories.UserWithToken()
    org = factories.Organization(
        name="enabled-org", users=[{"name": publisher["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=org["id"], name="big-data")
    return Env(sysadmin, publisher, outsider, org, dataset)


class Env:
    def __init__(self, sysadmin, publisher, outsider, org, dataset):
        self.sysadmin, self.publisher, self.outsider = sysadmin, publisher, outsider
        self.org, self.dataset = org, dataset

    @property
    def prefix(self) -> str:
        return f"{self.org['id']}/{self.dataset['id']}/"


class Api:
    """The action API over CKAN's test app, as a script with an API token would call it."""

    def __init__(self, app):
        self.app = app

    def call(self, action: str, user: dict[str, Any] | None = None, status: int = 200,
             **data: Any) -> dict[str, Any]:
        headers = {"Authorization": user["token"]} if user else {}
        response = self.app.post(f"/api/3/action/{action}", json=data, headers=headers,
                                 status=status)
        body = response.json
        return body["result"] if status == 200 else body["error"]


@pytest.fixture
def api(app) -> Api:
    return Api(app)


# Browser tests ---------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def s3_proxy(moto_url: str) -> Iterator[Any]:
    """The flaky-network proxy in front of moto's S3 (see s3proxy.py)."""
    from .s3proxy import S3Proxy, serve
    proxy = S3Proxy(moto_url)
    server = serve(proxy, free_port())
    proxy.url = f"http://127.0.0.1:{server.server_port}"
    yield proxy
    server.shutdown()


@pytest.fixture
def live_ckan(env, ckan_config, monkeypatch, s3_proxy, s3) -> Iterator[str]:
    """CKAN served over real HTTP on a free port, its S3 endpoint behind the proxy."""
    from ckan.config.middleware import make_app
    from ckan.lib import app_globals

    from .s3proxy import serve
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setitem(ckan_config, "ckan.site_url", url)
    # make_app resets site_url from app_globals' cache of the first value it saw.
    monkeypatch.setitem(app_globals._CONFIG_CACHE, "ckan.site_url", url)
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url", s3_proxy.url)
    s3_proxy.reset()
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [url], "AllowedMethods": ["PUT", "POST", "GET", "HEAD", "DELETE"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]})
    server = serve(make_app(ckan_config), port)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright. Missing browser = failure, never a skip."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_ckan) -> Iterator[Any]:
    context = chromium.new_context(base_url=live_ckan, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("console", lambda message: print(f"[browser {message.type}] {message.text}"))
    # Without the query string: presigned URLs carry session tokens.
    page.on("requestfailed", lambda r: print(
        f"[browser request failed] {r.method} {r.url.split('?')[0]} {r.failure}"))
    yield page
    context.close()


def log_in(page: Any, user: dict[str, Any]) -> None:
    page.goto("/user/login")
    page.fill("#field-login", user["name"])
    page.fill("#field-password", "correct123")
    page.click("form#login button[type=submit], form button[type=submit].btn-primary")
    page.wait_for_url(lambda url: "/user/login" not in url)
