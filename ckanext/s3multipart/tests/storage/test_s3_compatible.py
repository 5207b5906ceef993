"""S3-compatible stores: endpoint, addressing style and checksum headers reach the wire."""
from __future__ import annotations

import os
import urllib.parse

import pytest

from ckanext.s3multipart import storage

from ..support import BUCKET, download, post_file

pytestmark = pytest.mark.usefixtures("store")

MiB = 1024**2
# Headers botocore 1.36+ adds for its default CRC32 checksums, which R2 and B2 refuse.
CHECKSUM_HEADERS = ("x-amz-checksum-", "x-amz-sdk-checksum-algorithm", "x-amz-trailer")


@pytest.fixture
def sent_headers():
    """Every request the extension's S3 client sends: (operation, headers)."""
    sent: list[tuple[str, dict[str, str]]] = []

    def record(request, event_name, **kwargs):
        sent.append((event_name.split(".")[-1], {k.lower(): str(v)
                                                 for k, v in request.headers.items()}))

    events = storage.s3().meta.events
    events.register("before-send.s3", record)
    yield sent
    events.unregister("before-send.s3", record)


@pytest.mark.ckan_config("ckan.max_resource_size", "20")
@pytest.mark.parametrize("size", [100, 6 * MiB])
def test_no_checksum_headers_to_a_compatible_store(env, app, s3, sent_headers, size):
    body = os.urandom(size)
    resource = post_file(app, env.publisher, "resource_create", "data.bin", body,
                         package_id="big-data")
    uploads = [(op, h) for op, h in sent_headers if op in ("PutObject", "UploadPart")]
    assert uploads, sent_headers
    for operation, headers in uploads:
        assert not [h for h in headers if h.startswith(CHECKSUM_HEADERS)], (operation, headers)
        assert "aws-chunked" not in headers.get("content-encoding", ""), operation
    assert s3.get_object(Bucket=BUCKET, Key=resource["s3_key"])["Body"].read() == body


def test_aws_keeps_botocores_checksum_default(monkeypatch, ckan_config):
    assert storage.s3().meta.config.request_checksum_calculation == "when_required"
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url", "")
    storage._client.cache_clear()
    # AWS S3 accepts them: keep the integrity check botocore adds by default.
    assert storage.s3().meta.config.request_checksum_calculation == "when_supported"


@pytest.mark.parametrize("style, prefix", [
    ("path", "https://objects.example.org/ckan-test-bucket/"),
    ("virtual", "https://ckan-test-bucket.objects.example.org/"),
])
def test_download_links_follow_endpoint_and_addressing_style(
        env, app, plugin_tables, monkeypatch, ckan_config, style, prefix):
    resource = post_file(app, env.publisher, "resource_create", "styled.csv", b"s\n",
                         package_id="big-data")
    # Presigning needs no request to the store, so any endpoint shows the URL's shape.
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url",
                        "https://objects.example.org")
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.addressing_style", style)
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_region", "eu-central-1")
    storage._client.cache_clear()
    location = download(app, resource).headers["Location"]
    assert location.startswith(prefix + urllib.parse.quote(env.prefix)), location
    assert "%2Feu-central-1%2Fs3%2Faws4_request" in location
