"""Persistent download links: CKAN checks access, then redirects to a presigned GET."""
from __future__ import annotations

import urllib.parse

import ckan.tests.factories as factories
import pytest
import requests

from ..support import BUCKET, download, post_file

pytestmark = pytest.mark.usefixtures("store", "plugin_tables")

NAME = "Données 2024 — final.csv"
BODY = "a,b\n1,é\n".encode()


@pytest.fixture
def resource(env, app):
    return post_file(app, env.publisher, "resource_create", NAME, BODY, package_id="big-data")


def query(location: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


@pytest.mark.ckan_config("ckanext.s3multipart.download_expiry", "123")
def test_download_redirects_to_a_presigned_get_of_the_object(env, app, resource, store):
    response = download(app, resource)  # public dataset, anonymous
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{store.endpoint_url}/{BUCKET}/{urllib.parse.quote(env.prefix)}")
    params = query(location)
    assert params["X-Amz-Expires"] == "123"
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    # a per-user, short-lived URL must not be kept by a shared cache
    assert "no-store" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]

    fetched = requests.get(location, timeout=30)
    assert fetched.status_code == 200 and fetched.content == BODY
    disposition = fetched.headers["Content-Disposition"]
    assert disposition == (
        "attachment; filename=\"Donnees 2024  final.csv\"; "
        "filename*=UTF-8''Donn%C3%A9es%202024%20%E2%80%94%20final.csv")
    assert params["response-content-disposition"] == disposition


def test_link_without_file_name_works_too(app, resource):
    response = download(app, resource, filename=None)
    assert response.status_code == 302
    assert requests.get(response.headers["Location"], timeout=30).content == BODY


def test_file_name_in_the_link_does_not_matter(app, resource):
    # CKAN munges the name in the URL; the object's real name is what the browser gets.
    response = download(app, resource, filename="anything.txt")
    assert "Donn%C3%A9es" in query(response.headers["Location"])["response-content-disposition"]


@pytest.fixture
def private_resource(env, app, private_dataset):
    return post_file(app, env.publisher, "resource_create", "secret.csv", b"s,e\n",
                     package_id=private_dataset["id"])


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_private_dataset_refuses_others_without_leaking_a_url(env, app, private_resource, who):
    user = None if who == "anonymous" else env.outsider
    response = download(app, private_resource, user, dataset="secret-data")
    assert response.status_code in (403, 404)
    assert "Location" not in response.headers
    body = response.get_data(as_text=True)  # the error page (it echoes the request's own path)
    assert BUCKET not in body and "X-Amz" not in body and private_resource["s3_key"] not in body


@pytest.mark.parametrize("who", ["publisher", "sysadmin"])
def test_private_dataset_downloads_for_members(env, app, private_resource, who):
    user = env.publisher if who == "publisher" else env.sysadmin
    response = download(app, private_resource, user, dataset="secret-data")
    assert response.status_code == 302
    assert requests.get(response.headers["Location"], timeout=30).content == b"s,e\n"


def test_unknown_resource_is_404(app):
    response = download(app, {"id": "no-such-resource", "url": "x.csv"})
    assert response.status_code == 404 and "Location" not in response.headers


def test_store_without_credentials_answers_503_not_500(env, app, resource, monkeypatch,
                                                      ckan_config, tmp_path):
    from ckanext.s3multipart import storage
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.aws_access_key_id", "")
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.aws_secret_access_key", "")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    storage._client.cache_clear()
    response = download(app, resource)
    assert response.status_code == 503 and "Location" not in response.headers
    assert "no AWS credentials" in response.get_data(as_text=True)


def test_resources_without_s3_key_behave_as_in_core(env, app, api):
    link = api.call("resource_create", env.publisher, package_id="big-data",
                    url="https://example.org/data.csv")
    response = download(app, link, filename=None)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.org/data.csv"


def test_local_uploads_are_still_served_by_core(env, app):
    other = factories.Organization(
        name="not-enabled", users=[{"name": env.publisher["name"], "capacity": "editor"}])
    factories.Dataset(owner_org=other["id"], name="local-data")
    resource = post_file(app, env.publisher, "resource_create", "local.csv", b"on disk\n",
                         package_id="local-data")
    response = download(app, resource, dataset="local-data")
    assert response.status_code == 200 and response.get_data() == b"on disk\n"


@pytest.mark.ckan_config("ckan.plugins", "s3multipart example_idatasetform_v5")
def test_other_dataset_types_redirect_too(env, app):
    factories.Dataset(owner_org=env.org["id"], name="fancy-data", type="fancy_type")
    resource = post_file(app, env.publisher, "resource_create", "fancy.csv", b"f\n",
                         package_id="fancy-data")
    response = download(app, resource, dataset="fancy-data", package_type="fancy_type")
    assert response.status_code == 302
    assert requests.get(response.headers["Location"], timeout=30).content == b"f\n"


def test_download_sends_ckan_resource_download_signal(app, resource):
    from ckan.lib import signals
    received = []

    def listener(sender, **kwargs):
        received.append(sender)

    signals.resource_download.connect(listener)
    try:
        assert download(app, resource).status_code == 302
    finally:
        signals.resource_download.disconnect(listener)
    assert received == [resource["id"]]
