"""`ckan s3multipart list`, `orphans` and `abort-stale` on a seeded bucket."""
from __future__ import annotations

import datetime
import uuid

import pytest
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.s3multipart import keys
from ckanext.s3multipart.cli import inventory

from ..devsupport import free_port
from ..support import BUCKET, run

pytestmark = pytest.mark.usefixtures("store", "with_extended_cli")


@pytest.fixture
def site(env, ckan_config, monkeypatch):
    """This test's own site prefix in the shared bucket, so other tests' objects stay out."""
    root = f"inventory-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_prefix", root)
    return root + "/"


def put(s3, key: str, body: bytes = b"x") -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


def new_key(env, name: str, dataset=None) -> str:
    dataset = dataset or env.dataset
    return keys.new_upload_prefix(env.org["id"], dataset["id"]) + name


def attach(env, key: str, dataset=None) -> dict:
    return call_action("resource_create", {"user": env.publisher["name"]},
                       package_id=(dataset or env.dataset)["id"], url_type="upload", s3_key=key)


@pytest.fixture
def seeded(env, site, s3):
    """Objects of a live resource, a deleted resource, a deleted dataset, a dataset
    purged from CKAN, a loose object in a dataset, and a key outside the layout."""
    live = put(s3, new_key(env, "live.csv"), b"a" * 100)
    attach(env, live)
    gone = put(s3, new_key(env, "gone.csv"), b"b" * 10)
    call_action("resource_delete", {"user": env.sysadmin["name"]}, id=attach(env, gone)["id"])
    loose = put(s3, new_key(env, "loose.bin"), b"c" * 1000)
    trashed = factories.Dataset(owner_org=env.org["id"], name="trashed-data")
    in_trash = put(s3, new_key(env, "kept.csv", trashed), b"d" * 5)
    attach(env, in_trash, trashed)
    call_action("package_delete", {"user": env.sysadmin["name"]}, id=trashed["id"])
    purged = put(s3, f"{site}{env.org['id']}/{uuid.uuid4()}/{'e' * 32}/old.csv", b"e" * 7)
    stray = put(s3, f"{site}stray.txt", b"f")
    outside = put(s3, f"not-{site}{env.org['id']}/x/y/elsewhere.csv")
    return {"live": live, "gone": gone, "loose": loose, "in_trash": in_trash,
            "purged": purged, "stray": stray, "outside": outside}


def later(monkeypatch, **delta) -> None:
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(**delta)
    monkeypatch.setattr(inventory, "now", lambda: now)


def test_list_counts_objects_per_dataset(env, site, seeded, cli):
    output = run(cli, "list").output
    rows = {line.split("  ")[0].strip(): line.split() for line in output.splitlines()[1:-1]}
    big = rows["big-data"]
    assert big[1:5] == ["enabled-org", "3", "1.1", "KiB"] and big[5] == env.dataset["id"]
    assert rows["trashed-data (deleted)"][-4:-1] == ["1", "5", "B"]
    assert rows["(not in CKAN)"][-4:-1] == ["1", "7", "B"]
    assert rows["(keys outside the layout)"][-3:] == ["1", "1", "B"]
    assert output.splitlines()[-1] == \
        f"4 rows, 6 objects, 1.1 KiB under s3://{BUCKET}/{site}"
    assert "elsewhere" not in output


def test_list_of_an_empty_site(env, site, cli):
    assert run(cli, "list").output.strip() == f"No objects under s3://{BUCKET}/{site}"


def test_orphans_are_objects_no_live_resource_points_at(env, site, seeded, cli, monkeypatch):
    # Fresh objects may be uploads whose form is not saved yet: not counted by default.
    output = run(cli, "orphans").output
    assert output.strip() == (f"0 orphans, 0 B under s3://{BUCKET}/{site} "
                              "(4 unreferenced objects younger than 1 day not counted)")
    later(monkeypatch, days=2)
    output = run(cli, "orphans").output
    listed = {line.split()[0]: line for line in output.splitlines()[:-1]}
    assert set(listed) == {seeded["gone"], seeded["loose"], seeded["purged"], seeded["stray"]}
    assert listed[seeded["gone"]].endswith("(its resource was deleted)")
    assert listed[seeded["loose"]].split()[1:3] == ["1,000", "B"]
    assert output.splitlines()[-1] == f"4 orphans, 1,018 B under s3://{BUCKET}/{site}"
    assert run(cli, "orphans", "--older-than", "3").output.startswith("0 orphans")


def test_orphans_delete_asks_first(env, site, seeded, cli, s3, monkeypatch):
    later(monkeypatch, days=2)
    result = run(cli, "orphans", "--delete", input="n\n", status=1)
    assert "Delete 4 objects (1,018 B) from bucket ckan-test-bucket? [y/N]" in result.output
    assert "Aborted" in result.output
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=site)["KeyCount"] == 6

    output = run(cli, "orphans", "--delete", input="y\n").output
    assert "Deleted 4 objects" in output
    left = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=site)["Contents"]}
    assert left == {seeded["live"], seeded["in_trash"]}
    assert s3.head_object(Bucket=BUCKET, Key=seeded["outside"])
    assert run(cli, "orphans").output.startswith("0 orphans")


def test_orphans_delete_yes_does_not_ask(env, site, seeded, cli, s3, monkeypatch):
    later(monkeypatch, days=2)
    output = run(cli, "orphans", "--delete", "--yes").output
    assert "[y/N]" not in output and "Deleted 4 objects" in output
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=site)["KeyCount"] == 2


def uploads(s3, prefix: str) -> set[str]:
    answer = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
    return {u["UploadId"] for u in answer.get("Uploads", [])}


def test_abort_stale_aborts_old_uploads_under_the_site_prefix(env, site, cli, s3, monkeypatch):
    ours = [s3.create_multipart_upload(Bucket=BUCKET, Key=new_key(env, f"part{i}.bin"))
            for i in range(2)]
    other_prefix = f"not-{site}"
    theirs = s3.create_multipart_upload(Bucket=BUCKET, Key=f"{other_prefix}file.bin")

    # As the store dates them (moto: always 2010-11-10 20:48:33), two hours later...
    started = max(u["Initiated"] for u in s3.list_multipart_uploads(
        Bucket=BUCKET, Prefix=site)["Uploads"])
    monkeypatch.setattr(inventory, "now", lambda: started + datetime.timedelta(hours=2))
    output = run(cli, "abort-stale", "--older-than", "3").output
    assert output.strip() == f"0 uploads older than 3 hours aborted under s3://{BUCKET}/{site}"
    assert uploads(s3, site) == {u["UploadId"] for u in ours}

    output = run(cli, "abort-stale", "--older-than", "1.5").output
    for upload in ours:
        assert f"aborted {upload['Key']} (upload {upload['UploadId']}, started " \
               f"{started:%Y-%m-%d} " in output
    assert output.splitlines()[-1].startswith("2 uploads older than 1.5 hours aborted")
    assert uploads(s3, site) == set()
    assert uploads(s3, other_prefix) == {theirs["UploadId"]}
    s3.abort_multipart_upload(Bucket=BUCKET, Key=theirs["Key"], UploadId=theirs["UploadId"])


def test_an_unreachable_store_is_one_line(env, cli, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url",
                        f"http://127.0.0.1:{free_port()}")
    output = run(cli, "list", status=1).output.strip()
    assert output.startswith("Error: S3 is unreachable (ListObjectsV2 could not connect to ")
    assert output.endswith("; `ckan s3multipart check` tells what is wrong")
    assert len(output.splitlines()) == 1


def test_abort_stale_needs_hours(env, cli):
    result = run(cli, "abort-stale", status=2)
    assert "Missing option '--older-than'" in result.output
