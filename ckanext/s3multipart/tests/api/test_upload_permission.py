"""Who may get upload permission: the one rule behind every s3multipart action.

Logged in, dataset in an organization listed in enabled_orgs, and rights to create
datasets in that organization and update this dataset. Sysadmins too need the org enabled.
"""
from __future__ import annotations

import re

import ckan.tests.factories as factories
import pytest
from ckan.tests.helpers import call_action

ACTIONS = [
    ("s3multipart_credentials", {}),
    ("s3multipart_presigned_post", {"filename": "a.csv"}),
    ("s3multipart_upload_start", {"filename": "a.csv", "size": 10}),
    ("s3multipart_upload_sign", {"key": "k", "upload_id": "u", "part_numbers": [1]}),
    ("s3multipart_upload_list_parts", {"key": "k", "upload_id": "u"}),
    ("s3multipart_upload_complete", {"key": "k", "upload_id": "u",
                                     "parts": [{"part_number": 1, "etag": "e"}]}),
    ("s3multipart_upload_abort", {"key": "k", "upload_id": "u"}),
]
action_names = pytest.mark.parametrize("action, extra", ACTIONS, ids=[a for a, _ in ACTIONS])


@action_names
def test_anonymous_is_refused(env, api, action, extra):
    error = api.call(action, None, status=403, id="big-data", **extra)
    assert "Log in" in error["message"]


@action_names
def test_user_without_update_rights_is_refused(env, api, action, extra):
    error = api.call(action, env.outsider, status=403, id="big-data", **extra)
    assert f"User {env.outsider['name']} may not upload files to dataset 'big-data'" \
        in error["message"]


@action_names
def test_missing_dataset_id_is_a_validation_error(env, api, action, extra):
    error = api.call(action, env.publisher, status=409, **extra)
    assert error["id"] == ["Missing value"]


@action_names
def test_unknown_dataset_is_not_found(env, api, action, extra):
    error = api.call(action, env.publisher, status=404, id="no-such-dataset", **extra)
    assert "Dataset not found: no-such-dataset" in error["message"]


@pytest.mark.ckan_config("ckanext.s3multipart.enabled_orgs", "some-other-org")
@action_names
def test_organization_not_enabled_names_it_and_the_option(env, api, action, extra):
    for user in (env.publisher, env.sysadmin):
        error = api.call(action, user, status=403, id="big-data", **extra)
        assert "Organization 'enabled-org' is not enabled for S3 uploads" in error["message"]
        assert "ckanext.s3multipart.enabled_orgs" in error["message"]


def test_member_of_the_organization_without_editor_rights_is_refused(env, api):
    member = factories.UserWithToken()
    factories.Organization(users=[{"name": member["name"], "capacity": "member"}])
    call_action("organization_member_create", id=env.org["id"], username=member["name"],
                role="member")
    error = api.call("s3multipart_credentials", member, status=403, id="big-data")
    assert "needs package_create rights" in error["message"]


def test_dataset_without_organization_is_refused(env, api):
    unowned = factories.Dataset(user=env.publisher, owner_org=None, name="unowned")
    error = api.call("s3multipart_credentials", env.publisher, status=403, id=unowned["id"])
    assert "belongs to no organization" in error["message"]


def test_deleted_dataset_is_not_found(env, api):
    call_action("package_delete", id=env.dataset["id"])
    api.call("s3multipart_credentials", env.publisher, status=404, id="big-data")


def test_editor_admin_and_sysadmin_may_upload(env, api, store):
    admin = factories.UserWithToken()
    call_action("organization_member_create", id=env.org["id"], username=admin["name"],
                role="admin")
    for user in (env.publisher, admin, env.sysadmin):
        answer = api.call("s3multipart_credentials", user, id="big-data")
        assert answer["prefix"].startswith(env.prefix)


@pytest.mark.ckan_config("ckanext.s3multipart.enabled_orgs", "*")
def test_star_enables_every_organization(env, api, store):
    org = factories.Organization(users=[{"name": env.publisher["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=org["id"])
    answer = api.call("s3multipart_credentials", env.publisher, id=dataset["name"])
    assert answer["prefix"].startswith(f"{org['id']}/{dataset['id']}/")


def test_draft_dataset_may_get_files(env, api, store):
    draft = factories.Dataset(owner_org=env.org["id"], state="draft")
    api.call("s3multipart_credentials", env.publisher, id=draft["id"])


def test_cookie_session_post_needs_the_csrf_token(env, app, api, store):
    """A browser's logged-in POST gets credentials only with CKAN's CSRF token."""
    user = factories.User(password="correct horse battery")
    call_action("organization_member_create", id=env.org["id"], username=user["name"],
                role="editor")
    # A script's token-authenticated call first: on CKAN 2.12.0 it used to switch CKAN's
    # CSRF check off for this action in the whole process.
    api.call("s3multipart_credentials", env.publisher, id="big-data")
    browser = app.test_client(use_cookies=True)
    site = {"base_url": "http://127.0.0.1:5000"}
    browser.post("/user/login", data={"login": user["name"],
                                      "password": "correct horse battery"}, **site)
    page = browser.get("/dashboard/datasets", **site)
    assert page.status_code == 200  # logged in: no redirect to the login form
    html = page.get_data(as_text=True)
    field = re.search(r'<meta name="csrf_field_name" content="([^"]+)"', html).group(1)
    token = re.search(rf'<meta name="{field}" content="([^"]+)"', html).group(1)

    for headers in ({}, {"X-CSRFToken": "forged"}):
        refused = browser.post("/api/3/action/s3multipart_credentials",
                               json={"id": "big-data"}, headers=headers, **site)
        # 400 from CKAN's own check, or 403 from the extension's where CKAN skipped it
        # (CKAN 2.12.0 exempts a view for the whole process after token requests).
        assert refused.status_code in (400, 403)
        assert "CSRF" in refused.get_data(as_text=True)
        assert "AccessKeyId" not in refused.get_data(as_text=True)

    allowed = browser.post("/api/3/action/s3multipart_credentials", json={"id": "big-data"},
                           headers={"X-CSRFToken": token}, **site)
    assert allowed.status_code == 200
    assert allowed.json["result"]["prefix"].startswith(env.prefix)
