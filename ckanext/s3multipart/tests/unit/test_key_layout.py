"""The key layout and safe file names: every key stays inside its upload folder."""
from __future__ import annotations

import pytest

from ckanext.s3multipart import keys

ORG, DATASET = "org-uuid", "dataset-uuid"


def test_dataset_prefix_with_and_without_site_prefix(ckan_config, monkeypatch):
    assert keys.dataset_prefix(ORG, DATASET) == "org-uuid/dataset-uuid/"
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_prefix", "ckan/data")
    assert keys.dataset_prefix(ORG, DATASET) == "ckan/data/org-uuid/dataset-uuid/"


def test_upload_prefixes_are_fresh_and_recognised_only_for_their_dataset():
    first, second = (keys.new_upload_prefix(ORG, DATASET) for _ in range(2))
    assert first != second
    assert first.startswith("org-uuid/dataset-uuid/") and first.endswith("/")
    assert first.count("/") == 3
    assert keys.is_upload_prefix(first, ORG, DATASET)
    # The same segment under another dataset, a forged segment, or the dataset prefix itself.
    segment = first.split("/")[2]
    assert not keys.is_upload_prefix(f"org-uuid/other-dataset/{segment}/", ORG, "other-dataset")
    assert not keys.is_upload_prefix(f"org-uuid/dataset-uuid/{'0' * 32}/", ORG, DATASET)
    assert not keys.is_upload_prefix("org-uuid/dataset-uuid/", ORG, DATASET)
    assert not keys.is_upload_prefix(first + "deeper/", ORG, DATASET)


def test_upload_prefix_signature_depends_on_the_site_secret(ckan_config, monkeypatch):
    prefix = keys.new_upload_prefix(ORG, DATASET)
    monkeypatch.setitem(ckan_config, "SECRET_KEY", "another-site")
    assert not keys.is_upload_prefix(prefix, ORG, DATASET)


@pytest.mark.parametrize("key, inside", [
    ("org-uuid/dataset-uuid/abc/file.csv", True),
    ("org-uuid/dataset-uuid/file.csv", True),  # written through the legacy route
    ("org-uuid/dataset-uuid/", False),
    ("org-uuid/dataset-uuid/abc/", False),
    ("org-uuid/dataset-uuid/../other/file.csv", False),
    ("org-uuid/dataset-uuid//file.csv", False),
    ("org-uuid/dataset-uuid-2/file.csv", False),
    ("org-uuid/other/file.csv", False),
    ("file.csv", False),
])
def test_in_dataset(key, inside):
    assert keys.in_dataset(key, ORG, DATASET) is inside


@pytest.mark.parametrize("name, safe", [
    ("data.csv", "data.csv"),
    ("Données 2024 – été.csv", "Données 2024 – été.csv"),
    ("a/b/c.csv", "a_b_c.csv"),
    ("a\\b.csv", "a_b.csv"),
    ("../../etc/passwd", "_.._etc_passwd"),
    ("..hidden", "hidden"),
    ("  .env ", "env"),
    ("nul\x00byte.txt", "nulbyte.txt"),
    ("tab\tnew\nline\r.txt", "tabnewline.txt"),
    ("bidi\u202eexe.txt", "bidiexe.txt"),
])
def test_safe_file_name(name, safe):
    assert keys.safe_file_name(name) == safe


@pytest.mark.parametrize("name", ["", "   ", ".", "..", "....", "\x00\x01", ". . ."])
def test_names_with_nothing_usable_are_refused(name):
    with pytest.raises(keys.UnsafeFileName):
        keys.safe_file_name(name)


def test_long_names_fit_the_key_limit_and_keep_their_extension():
    prefix = keys.new_upload_prefix(ORG, DATASET)
    for stem in ("x" * 2000, "é" * 2000, "数" * 2000):
        key = keys.object_key(prefix, stem + ".tar.gz")
        assert len(key.encode()) <= 1024
        assert key.startswith(prefix) and key.endswith(".tar.gz")
        assert "/" not in key[len(prefix):]
        key.encode().decode()  # still valid UTF-8: no character was cut in half


def test_long_site_prefix_still_fits_1024_bytes(ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_prefix", "p" * 800)
    key = keys.object_key(keys.new_upload_prefix(ORG, DATASET), "y" * 500 + ".csv")
    assert len(key.encode()) <= 1024 and key.endswith(".csv")


def test_a_prefix_leaving_no_room_for_names_is_refused(ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_prefix", "p" * 950)
    with pytest.raises(keys.PrefixTooLong):
        keys.object_key(keys.new_upload_prefix(ORG, DATASET), "data.csv")


def test_extension_is_dropped_rather_than_leaving_a_hidden_file():
    assert keys.safe_file_name("x" * 100 + ".csv", max_bytes=6) == "x" * 6


def test_batch_prefixes_are_their_users_and_never_pass_for_an_upload_prefix():
    batch = keys.new_batch_prefix(ORG, DATASET, "user-a")
    assert batch.startswith("org-uuid/dataset-uuid/") and batch.count("/") == 3
    assert keys.is_batch_prefix(batch, ORG, DATASET, "user-a")
    assert not keys.is_batch_prefix(batch, ORG, DATASET, "user-b")
    assert not keys.is_upload_prefix(batch, ORG, DATASET)
    upload = keys.new_upload_prefix(ORG, DATASET)
    assert not keys.is_batch_prefix(upload, ORG, DATASET, "user-a")
    segment = batch.split("/")[2]
    assert not keys.is_batch_prefix(f"org-uuid/other/{segment}/", ORG, "other", "user-a")


@pytest.mark.parametrize("name, below", [
    ("survey/2024/01/day.csv", "survey/2024/01/day.csv"),
    ("survey\\2024\\day.csv", "survey/2024/day.csv"),
    ("../../etc/passwd", "etc/passwd"),
    ("a/./b/../c.csv", "a/b/c.csv"),
    (".hidden/.x.csv", "hidden/x.csv"),
    ("a/\x00b/c.csv", "a/b/c.csv"),
    ("day.csv", "day.csv"),
])
def test_batch_keys_keep_the_folders_made_safe_below_the_batch(name, below):
    prefix = keys.new_batch_prefix(ORG, DATASET, "user-a")
    key = keys.batch_key(prefix, name)
    assert key == prefix + below
    assert keys.in_dataset(key, ORG, DATASET)


def test_batch_folders_too_long_for_a_name_are_refused_as_such():
    prefix = keys.new_batch_prefix(ORG, DATASET, "user-a")
    assert len(keys.batch_key(prefix, "x/" * 400 + "day.csv").encode()) <= 1024
    with pytest.raises(keys.FoldersTooLong):
        keys.batch_key(prefix, "x/" * 470 + "day.csv")
    with pytest.raises(keys.UnsafeFileName):
        keys.batch_key(prefix, "folder/...")
