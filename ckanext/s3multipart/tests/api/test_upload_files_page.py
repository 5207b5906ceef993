"""The "Upload files" page and its buttons, as CKAN renders them (API tokens log in).

Whoever may upload sees the button on the dataset page and its resources page and gets
the page, with the module's options and the dataset's files (name and size, what a file
already there is recognised by); anyone else sees no button and gets 403 (or 404)."""
from __future__ import annotations

import json
import re

import pytest
from ckan.tests import factories

pytestmark = pytest.mark.usefixtures("with_plugins")

BUTTON = 's3multipart-upload-files" href="/dataset/big-data/upload-files"'


def get(app, url: str, user: dict | None, status: int = 200) -> str:
    headers = {"Authorization": user["token"]} if user else {}
    response = app.get(url, headers=headers, status=status)
    return response.get_data(as_text=True)


def test_who_may_upload_sees_the_button_and_gets_the_page(app, env):
    factories.Resource(package_id=env.dataset["id"], url="http://example.com/a.csv",
                       name="survey/a.csv", size=12)
    for url in ("/dataset/big-data", "/dataset/resources/big-data"):
        assert BUTTON in get(app, url, env.publisher), url
    page = get(app, "/dataset/big-data/upload-files", env.publisher)
    assert 'data-module="s3multipart-batch"' in page
    assert 'type="file" multiple' in page and "webkitdirectory" in page
    assert 'role="progressbar"' in page
    for name in ("Pause", "Resume", "Cancel"):
        assert f">{name}</button>" in page
    present = re.search(r"data-module-present='([^']*)'", page).group(1)
    assert json.loads(present) == [["survey/a.csv", 12]]
    assert 'data-module-files-concurrency="2"' in page
    assert "SecretAccessKey" not in page and "SessionToken" not in page


def test_others_see_no_button_and_are_refused_the_page(app, env):
    assert BUTTON not in get(app, "/dataset/big-data", env.outsider)
    assert BUTTON not in get(app, "/dataset/big-data", None)
    body = get(app, "/dataset/big-data/upload-files", env.outsider, status=403)
    assert "may not upload files to dataset" in body
    get(app, "/dataset/big-data/upload-files", None, status=403)
    get(app, "/dataset/no-such-dataset/upload-files", env.publisher, status=404)


@pytest.mark.ckan_config("ckanext.s3multipart.enabled_orgs", "another-org")
def test_no_button_where_the_organization_is_not_enabled(app, env):
    assert BUTTON not in get(app, "/dataset/big-data", env.publisher)
    body = get(app, "/dataset/big-data/upload-files", env.publisher, status=403)
    assert "not enabled for S3 uploads" in body
