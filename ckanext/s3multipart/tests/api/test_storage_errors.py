"""S3 or STS unreachable or refusing: a CKAN error saying what failed, never a 500, and
never a secret in the answer or the logs."""
from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ..devsupport import free_port

SERVER_SECRET = "test-server-secret-value"
SERVER_KEY_ID = "test-server-key-id"
STS_DENIED = b"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<Error><Type>Sender</Type><Code>AccessDenied</Code>
<Message>User is not authorized to perform: sts:AssumeRole</Message></Error>
<RequestId>1</RequestId></ErrorResponse>"""


@pytest.fixture
def refusing_sts():
    """A local endpoint answering every request like STS refusing AssumeRole."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(STS_DENIED)))
            self.end_headers()
            self.wfile.write(STS_DENIED)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def assert_no_secret(text: str) -> None:
    assert SERVER_SECRET not in text and SERVER_KEY_ID not in text


def _closed_port() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_sts_unreachable(env, api, ckan_config, monkeypatch, caplog):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.sts_endpoint_url", _closed_port())
    caplog.set_level(logging.DEBUG)
    error = api.call("s3multipart_credentials", env.publisher, status=409, id="big-data")
    assert "STS is unreachable (AssumeRole could not connect" in error["storage"][0]
    assert_no_secret(str(error) + caplog.text)


def test_sts_refusing(env, api, ckan_config, monkeypatch, refusing_sts, caplog):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.sts_endpoint_url", refusing_sts)
    caplog.set_level(logging.DEBUG)
    error = api.call("s3multipart_credentials", env.publisher, status=409, id="big-data")
    assert error["storage"] == ["STS refused AssumeRole: AccessDenied"]
    assert_no_secret(str(error) + caplog.text)


def test_legacy_route_reports_sts_failure_without_500(env, app, ckan_config, monkeypatch,
                                                     refusing_sts):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.sts_endpoint_url", refusing_sts)
    response = app.get("/api/3/action/get_s3_auth/big-data",
                       headers={"Authorization": env.publisher["token"]}, status=409)
    assert "STS refused AssumeRole" in response.get_data(as_text=True)
    assert_no_secret(response.get_data(as_text=True))


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_s3_unreachable(env, api, ckan_config, monkeypatch, caplog):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url", _closed_port())
    caplog.set_level(logging.DEBUG)
    error = api.call("s3multipart_upload_start", env.publisher, status=409, id="big-data",
                     filename="a.csv", size=10)
    assert "S3 is unreachable (CreateMultipartUpload could not connect" in error["storage"][0]
    assert_no_secret(str(error) + caplog.text)


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
@pytest.mark.ckan_config("ckanext.s3multipart.s3_bucket", "no-such-bucket")
def test_s3_refusing(env, api, store, caplog):
    caplog.set_level(logging.DEBUG)
    error = api.call("s3multipart_upload_start", env.publisher, status=409, id="big-data",
                     filename="a.csv", size=10)
    assert error["storage"] == ["S3 refused CreateMultipartUpload: NoSuchBucket"]
    assert store.secret_key not in str(error) + caplog.text


def test_resource_create_with_s3_unreachable(env, api, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url", _closed_port())
    key = env.prefix + "0" * 32 + "/a.csv"
    error = api.call("resource_create", env.publisher, status=409, package_id="big-data",
                     url_type="upload", s3_key=key)
    assert "S3 is unreachable (HeadObject" in error["storage"][0]
