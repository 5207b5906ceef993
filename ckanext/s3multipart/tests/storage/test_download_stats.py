"""Download counts: every redirect counts per resource and UTC day, in the database."""
from __future__ import annotations

import datetime

import pytest
from ckan.tests.helpers import _get_test_app

from ckanext.s3multipart import downloads

from ..support import download, post_file

pytestmark = pytest.mark.usefixtures("store")

TODAY = downloads.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)


@pytest.fixture
def resource(plugin_tables, app):
    return post_file(app, plugin_tables.publisher, "resource_create", "counted.csv", b"c\n",
                     package_id="big-data")


def stats(api, resource, user=None, status=200):
    return api.call("s3multipart_download_stats", user, status=status, id=resource["id"])


def test_each_download_counts(app, api, resource, monkeypatch):
    monkeypatch.setattr(downloads, "today", lambda: TODAY)  # a run may cross midnight (UTC)
    assert stats(api, resource) == {"resource_id": resource["id"], "total": 0, "days": []}
    for _ in range(3):
        assert download(app, resource).status_code == 302
    assert stats(api, resource) == {"resource_id": resource["id"], "total": 3,
                                    "days": [{"date": TODAY.isoformat(), "count": 3}]}


def test_head_requests_do_not_count(app, api, resource):
    assert download(app, resource, method="HEAD").status_code == 302
    assert stats(api, resource)["total"] == 0


def test_counts_are_kept_per_day(app, api, resource, monkeypatch):
    monkeypatch.setattr(downloads, "today", lambda: YESTERDAY)
    for _ in range(2):
        download(app, resource)
    monkeypatch.setattr(downloads, "today", lambda: TODAY)
    for _ in range(3):
        download(app, resource)
    assert stats(api, resource)["days"] == [{"date": YESTERDAY.isoformat(), "count": 2},
                                            {"date": TODAY.isoformat(), "count": 3}]
    assert stats(api, resource)["total"] == 5


def test_counts_survive_a_restart(api, resource, app):
    for _ in range(2):
        download(app, resource)
    restarted = _get_test_app()  # a new CKAN app, as after a restart of the server
    assert restarted.flask_app is not app.flask_app
    download(restarted, resource)
    assert stats(api, resource)["total"] == 3


def test_counting_never_fails_a_download(app, api, resource, migrate_db_for):
    migrate_db_for("s3multipart", "base", forward=False)  # the table is gone
    try:
        response = download(app, resource)
        assert response.status_code == 302 and response.headers["Location"]
        error = stats(api, resource, status=409)
        assert "ckan db upgrade -p s3multipart" in error["stats"][0]
    finally:
        migrate_db_for("s3multipart")


def test_other_resources_are_not_counted(env, app, api, resource):
    other = post_file(app, env.publisher, "resource_create", "other.csv", b"o\n",
                      package_id="big-data")
    download(app, other)
    assert stats(api, resource)["total"] == 0 and stats(api, other)["total"] == 1


def test_the_resource_page_shows_the_total(app, resource):
    for _ in range(4):
        download(app, resource)
    page = app.get(f"/dataset/big-data/resource/{resource['id']}").get_data(as_text=True)
    assert 'class="s3multipart-download-total">4</span>' in page


def test_stats_of_a_private_resource_follow_resource_show(env, app, api, private_dataset):
    resource = post_file(app, env.publisher, "resource_create", "secret.csv", b"s\n",
                         package_id=private_dataset["id"])
    download(app, resource, env.publisher, dataset="secret-data")
    assert stats(api, resource, env.publisher)["total"] == 1
    assert stats(api, resource, env.sysadmin)["total"] == 1
    stats(api, resource, env.outsider, status=403)
    stats(api, resource, None, status=403)


def test_bad_input_is_a_4xx(api, plugin_tables):
    assert api.call("s3multipart_download_stats", None, status=409)["id"]
    api.call("s3multipart_download_stats", None, status=404, id="no-such-resource")


def test_stats_can_be_read_with_get(app, resource):
    download(app, resource)
    answer = app.get("/api/3/action/s3multipart_download_stats",
                     query_string={"id": resource["id"]}).json
    assert answer["success"] and answer["result"]["total"] == 1
