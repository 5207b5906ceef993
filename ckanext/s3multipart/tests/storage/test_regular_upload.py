"""CKAN's regular "Upload" field stores into S3 (IUploader) for enabled organizations."""
from __future__ import annotations

import hashlib
import io
import os
import pathlib

import ckan
import ckan.lib.uploader as core_uploader
import ckan.model as model
import ckan.tests.factories as factories
import pytest
from ckan.tests.helpers import call_action

from ckanext.s3multipart import keys, retry_policy

from ..s3proxy import first_tries
from ..support import BUCKET, post_file

pytestmark = pytest.mark.usefixtures("store")

MiB = 1024**2


def stored(s3, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_upload_field_stores_the_file_in_s3(env, app, s3):
    body = b"id,value\n1,2\n"
    resource = post_file(app, env.publisher, "resource_create", "Survey 2024.csv", body,
                         package_id="big-data", size="999", mimetype="image/png")
    key = resource["s3_key"]
    assert key.startswith(env.prefix) and key.endswith("/Survey 2024.csv")
    assert keys.is_upload_prefix(keys.upload_prefix_of(key), env.org["id"], env.dataset["id"])
    assert stored(s3, key) == body
    # size, mimetype and checksum come from the file, never from the client
    assert resource["size"] == len(body) and resource["mimetype"] == "text/csv"
    assert resource["hash"] == hashlib.sha256(body).hexdigest()
    assert resource["hash_algorithm"] == "sha256"
    assert resource["url_type"] == "upload" and resource["format"] == "CSV"
    assert resource["url"].endswith(f"/resource/{resource['id']}/download/survey-2024.csv")

    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "text/csv"
    # the resource id is known when the bytes are written (after validation)
    assert head["Metadata"] == {
        "ckan-site-id": "s3mp-test", "ckan-user": env.publisher["name"],
        "ckan-package-id": env.dataset["id"], "ckan-resource-id": resource["id"]}


def test_objects_get_no_public_acl(env, app, s3):
    resource = post_file(app, env.publisher, "resource_create", "private.csv", b"x",
                         package_id="big-data")
    grants = s3.get_object_acl(Bucket=BUCKET, Key=resource["s3_key"])["Grants"]
    assert not [g for g in grants if "AllUsers" in str(g["Grantee"].get("URI", ""))]


@pytest.mark.ckan_config("ckan.max_resource_size", "20")
def test_large_file_goes_up_in_parts(env, app, s3):
    body = os.urandom(11 * MiB + 123)
    resource = post_file(app, env.publisher, "resource_create", "big.bin", body,
                         package_id="big-data")
    head = s3.head_object(Bucket=BUCKET, Key=resource["s3_key"])
    # 5 MiB parts (the configured part size): a multipart ETag ends in the part count
    assert head["ETag"].strip('"').endswith("-3")
    assert hashlib.sha256(stored(s3, resource["s3_key"])).digest() == hashlib.sha256(body).digest()
    assert resource["size"] == len(body)
    assert resource["mimetype"] == "application/octet-stream"


@pytest.mark.stores("rgw")  # moto stores a changed part as it comes, Content-MD5 or not
@pytest.mark.ckan_config("ckan.max_resource_size", "20")
def test_a_part_changed_on_the_way_once_is_sent_again(env, app, s3, s3_proxy, ckan_config,
                                                    monkeypatch):
    """Every part s3transfer sends for the Upload field carries Content-MD5: the store
    refuses one whose bytes changed between CKAN and the store, and it goes again."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url", s3_proxy.url)
    s3_proxy.reset(flip=first_tries(2))
    body = os.urandom(11 * MiB)
    resource = post_file(app, env.publisher, "resource_create", "big.bin", body,
                         package_id="big-data")
    assert [p.status for p in s3_proxy.puts if p.part_number == 2] == [400, 200]
    assert s3.get_object(Bucket=BUCKET, Key=resource["s3_key"])["Body"].read() == body


@pytest.mark.stores("rgw")
@pytest.mark.ckan_config("ckan.max_resource_size", "20")
def test_a_part_changed_on_the_way_every_time_is_refused_by_the_store(
        env, app, s3, s3_proxy, ckan_config, monkeypatch):
    """A part that keeps arriving changed fails the upload, and nothing is saved."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url", s3_proxy.url)
    s3_proxy.reset(flip=lambda part: part.part_number == 2)
    body = os.urandom(11 * MiB)
    error = post_file(app, env.publisher, "resource_create", "big.bin", body,
                      package_id="big-data", status=409)
    assert "could not be stored" in error["upload"][0]
    refused = [p.status for p in s3_proxy.puts if p.part_number == 2]
    assert len(refused) == retry_policy.SERVER_ATTEMPTS and set(refused) == {400}, s3_proxy.puts
    assert call_action("package_show", id="big-data")["resources"] == []
    assert s3.list_multipart_uploads(Bucket=BUCKET, Prefix=env.prefix).get("Uploads", []) == []


@pytest.mark.ckan_config("ckan.max_resource_size", "1")
def test_ckan_max_resource_size_is_honoured(env, app, s3):
    error = post_file(app, env.publisher, "resource_create", "too-big.bin", b"x" * (MiB + 1),
                      status=409, package_id="big-data")
    assert "1,048,577 bytes" in error["upload"][0] and "1,048,576 bytes" in error["upload"][0]
    assert model.Package.get("big-data").resources == []
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=env.prefix).get("KeyCount", 0) == 0


@pytest.mark.ckan_config("ckanext.s3multipart.max_size", "4")
def test_extension_max_size_is_honoured(env, app):
    error = post_file(app, env.publisher, "resource_create", "five.txt", b"12345",
                      status=409, package_id="big-data")
    assert "5 bytes" in error["upload"][0]


def test_outsider_cannot_upload(env, app, s3):
    post_file(app, env.outsider, "resource_create", "intruder.csv", b"x", status=403,
              package_id="big-data")
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=env.prefix).get("KeyCount", 0) == 0


def test_a_failed_transfer_saves_no_resource(env, app, monkeypatch, ckan_config):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_bucket", "no-such-bucket")
    error = post_file(app, env.publisher, "resource_create", "lost.csv", b"x", status=409,
                      package_id="big-data")
    assert "could not be stored" in error["upload"][0] and "NoSuchBucket" in error["upload"][0]
    assert call_action("package_show", id="big-data")["resources"] == []


def test_replacing_the_file_writes_a_new_object_and_keeps_the_old(env, app, s3):
    first = post_file(app, env.publisher, "resource_create", "v1.csv", b"a\n1\n",
                      package_id="big-data", name="Data")
    second = post_file(app, env.publisher, "resource_update", "v2.json", b'{"a": 2}',
                       id=first["id"], package_id="big-data", name="Data")
    assert second["id"] == first["id"]
    assert second["s3_key"] != first["s3_key"] and second["s3_key"].endswith("/v2.json")
    assert stored(s3, second["s3_key"]) == b'{"a": 2}'
    assert second["size"] == 8 and second["mimetype"] == "application/json"
    assert second["hash"] == hashlib.sha256(b'{"a": 2}').hexdigest()
    assert second["url"].endswith("/download/v2.json")
    # never overwritten, never deleted: the old object is what `orphans` reports later
    assert stored(s3, first["s3_key"]) == b"a\n1\n"
    assert s3.head_object(Bucket=BUCKET, Key=second["s3_key"])["Metadata"][
        "ckan-resource-id"] == first["id"]


def test_editing_without_a_new_file_keeps_the_object(env, app, api):
    resource = post_file(app, env.publisher, "resource_create", "keep.csv", b"k\n",
                         package_id="big-data")
    # The form (and a script's resource_update) send url_type and url but not s3_key.
    updated = api.call("resource_update", env.publisher, id=resource["id"],
                       url_type="upload", url=resource["url"], description="edited")
    assert updated["s3_key"] == resource["s3_key"]
    assert updated["size"] == 2 and updated["mimetype"] == "text/csv"
    assert updated["hash"] == hashlib.sha256(b"k\n").hexdigest()
    assert updated["hash_algorithm"] == "sha256"
    assert updated["description"] == "edited"


def test_clear_upload_turns_the_resource_into_a_link(env, app, api, s3):
    resource = post_file(app, env.publisher, "resource_create", "clear-me.csv", b"c\n",
                         package_id="big-data")
    cleared = api.call("resource_patch", env.publisher, id=resource["id"], clear_upload="true")
    assert cleared["url_type"] in ("", None) and "s3_key" not in cleared
    # its own download link, which would now redirect to itself, is dropped as well
    assert cleared["url"] == ""
    assert stored(s3, resource["s3_key"]) == b"c\n"

    linked = api.call("resource_patch", env.publisher, id=resource["id"],
                      url="https://example.org/elsewhere.csv")
    assert linked["url"] == "https://example.org/elsewhere.csv" and "s3_key" not in linked


def test_choosing_link_in_the_form_leaves_the_object(env, app, api):
    resource = post_file(app, env.publisher, "resource_create", "to-link.csv", b"l\n",
                         package_id="big-data")
    # What the resource form posts: its hidden s3_key field, whatever radio is chosen.
    linked = api.call("resource_update", env.publisher, id=resource["id"], url_type="",
                      url="https://example.org/data.csv", s3_key=resource["s3_key"])
    assert linked["url"] == "https://example.org/data.csv"
    assert linked["url_type"] in ("", None) and "s3_key" not in linked


def test_deleting_keeps_the_objects(env, app, s3):
    resource = post_file(app, env.publisher, "resource_create", "keep-me.csv", b"d\n",
                         package_id="big-data")
    call_action("resource_delete", id=resource["id"])
    call_action("package_delete", id=env.dataset["id"])
    call_action("dataset_purge", id=env.dataset["id"])
    assert stored(s3, resource["s3_key"]) == b"d\n"


def test_organization_not_enabled_keeps_local_storage(env, app, s3, ckan_config):
    other = factories.Organization(
        name="not-enabled", users=[{"name": env.publisher["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=other["id"], name="local-data")
    resource = post_file(app, env.publisher, "resource_create", "local.csv", b"on disk\n",
                         package_id=dataset["id"])
    assert "s3_key" not in resource and resource["url_type"] == "upload"
    path = core_uploader.ResourceUpload({}).get_path(resource["id"])
    assert path.startswith(os.path.realpath(ckan_config["ckan.storage_path"]))
    with open(path, "rb") as f:
        assert f.read() == b"on disk\n"
    prefix = f"{other['id']}/"
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("KeyCount", 0) == 0


def test_group_and_user_images_keep_ckan_storage(env):
    from ckanext.s3multipart.plugin import S3MultipartPlugin
    assert S3MultipartPlugin().get_uploader("group") is None


def test_unusable_file_name_is_refused(env, app):
    error = post_file(app, env.publisher, "resource_create", "...", b"x", status=409,
                      package_id="big-data")
    assert "no usable characters" in error["upload"][0]


def test_the_resource_form_stores_into_s3_and_can_switch_to_a_link(env, app, s3):
    """CKAN's own resource form views (new, then edit), as a browser posts them."""
    headers = {"Authorization": env.publisher["token"]}
    # What the form sends for the Upload choice, the Large file widget's hidden s3_key empty.
    app.post("/dataset/big-data/resource/new", headers=headers, follow_redirects=False,
             content_type="multipart/form-data",
             data={"id": "", "url_type": "upload", "s3_key": "", "name": "Form file",
                   "save": "go-metadata", "upload": (io.BytesIO(b"f,o\n"), "form.csv")})
    [resource] = call_action("package_show", id="big-data")["resources"]
    assert resource["name"] == "Form file" and resource["url_type"] == "upload"
    assert stored(s3, resource["s3_key"]) == b"f,o\n"

    # Editing: the Link choice posts url_type "" and the hidden s3_key as it was.
    app.post(f"/dataset/big-data/resource/{resource['id']}/edit", headers=headers,
             follow_redirects=False,
             data={"url_type": "", "url": "https://example.org/x.csv", "name": "Form file",
                   "s3_key": resource["s3_key"], "save": ""})
    [linked] = call_action("package_show", id="big-data")["resources"]
    assert linked["url"] == "https://example.org/x.csv" and "s3_key" not in linked


PNG = (pathlib.Path(ckan.__file__).parent / "public/base/images/placeholder-user.png").read_bytes()


@pytest.mark.parametrize("mode, name, body, expected", [
    ("file_ext", "survey.csv", b"a,b\n1,2\n", "text/csv"),
    ("file_ext", "readings.dat", b"a,b\n1,2\n", None),  # no guess: core leaves it empty
    ("file_contents", "picture.dat", PNG, "image/png"),
    ("file_contents", "notes", b"plain words\n", "text/plain"),
    ("None", "survey.csv", b"a,b\n1,2\n", None),
])
def test_mimetype_follows_ckan_mimetype_guess_as_core_does(
        env, app, s3, ckan_config, monkeypatch, mode, name, body, expected):
    monkeypatch.setitem(ckan_config, "ckan.mimetype_guess", mode)
    resource = post_file(app, env.publisher, "resource_create", name, body,
                         package_id="big-data")
    assert resource["mimetype"] == expected
    head = s3.head_object(Bucket=BUCKET, Key=resource["s3_key"])
    assert head["ContentType"] == (expected or "application/octet-stream")

    # The same file through core's own storage (an organization not enabled).
    other = factories.Organization(
        users=[{"name": env.publisher["name"], "capacity": "editor"}])
    local = factories.Dataset(owner_org=other["id"])
    in_core = post_file(app, env.publisher, "resource_create", name, body,
                        package_id=local["id"])
    assert "s3_key" not in in_core and in_core["mimetype"] == expected
