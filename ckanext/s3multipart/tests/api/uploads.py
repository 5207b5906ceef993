"""What the action API tests of the presigned multipart flow share: starting an upload,
signing and sending its parts over HTTP, and reading CKAN's and S3's answers."""
from __future__ import annotations

import base64
import hashlib
import unicodedata
from typing import Any

import requests

from ..support import BUCKET

MiB = 1024**2
GiB = 1024**3
HEX = set("0123456789abcdef")
EMPTY_MD5 = "1B2M2Y8AsgTpgAmY7PhCfg=="  # the Content-MD5 of no bytes

# The actions that act on an upload already started, with the extra input each needs.
UPLOAD_ACTIONS = {
    "s3multipart_upload_sign": {"parts": [{"part_number": 1, "content_md5": EMPTY_MD5}]},
    "s3multipart_upload_list_parts": {},
    "s3multipart_upload_complete": {"parts": [{"part_number": 1, "etag": '"abc"'}]},
    "s3multipart_upload_abort": {},
}


def start(api, env, filename: str = "measurements.csv", size: int = 1024,
          **extra: Any) -> dict[str, Any]:
    return api.call("s3multipart_upload_start", env.publisher, id=env.dataset["name"],
                    filename=filename, size=size, **extra)


def ref(env, upload: dict[str, Any]) -> dict[str, str]:
    """The input naming one upload of the test dataset."""
    return {"id": env.dataset["name"], "key": upload["key"], "upload_id": upload["upload_id"]}


def content_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def sign(api, env, upload: dict[str, Any], chunks: dict[int, bytes]) -> dict[str, str]:
    """{part number: URL} for these parts, each signed for its chunk's Content-MD5."""
    return api.call("s3multipart_upload_sign", env.publisher, **ref(env, upload), parts=[
        {"part_number": n, "content_md5": content_md5(c)} for n, c in chunks.items()])["urls"]


def put_parts(api, env, upload: dict[str, Any], chunks: list[bytes]) -> list[dict[str, Any]]:
    """Sign parts 1..n, PUT each chunk to its URL over HTTP; [{part_number, etag}]."""
    numbers = list(range(1, len(chunks) + 1))
    urls = sign(api, env, upload, dict(zip(numbers, chunks, strict=True)))
    assert sorted(urls, key=int) == [str(n) for n in numbers]
    parts = []
    for number, chunk in zip(numbers, chunks, strict=True):
        response = requests.put(urls[str(number)], data=chunk, timeout=60,
                                headers={"Content-MD5": content_md5(chunk)})
        assert response.status_code == 200, response.text
        parts.append({"part_number": number, "etag": response.headers["ETag"]})
    return parts


def complete(api, env, upload, parts, status: int = 200) -> dict[str, Any]:
    return api.call("s3multipart_upload_complete", env.publisher, status=status, parts=parts,
                    **ref(env, upload))


def call_expecting(api, user, status: int, action: str, **data: Any) -> dict[str, Any]:
    """Call an action and check its status, naming the action if it is wrong."""
    headers = {"Authorization": user["token"]} if user else {}
    response = api.app.post(f"/api/3/action/{action}", json=data, headers=headers)
    assert response.status_code == status, f"{action}: {response.status_code} {response.text}"
    return response.json["error"]


def open_uploads(s3, prefix: str) -> list[str]:
    """Ids of the multipart uploads in progress under a prefix."""
    answer = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
    return [u["UploadId"] for u in answer.get("Uploads", [])]


def object_exists(s3, key: str) -> bool:
    answer = s3.list_objects_v2(Bucket=BUCKET, Prefix=key)
    return any(o["Key"] == key for o in answer.get("Contents", []))


def messages(error: Any) -> str:
    """All messages of a CKAN error answer (nested per-field errors too), as one string."""
    if isinstance(error, dict):
        return " ".join(messages(v) for k, v in error.items() if k != "__type")
    if isinstance(error, list):
        return " ".join(messages(v) for v in error)
    return str(error)


def assert_safe_key(key: str, prefix: str) -> str:
    """The key is <prefix><upload folder>/<file name> with a harmless name; returns the name."""
    assert key.startswith(prefix), key
    folder, name = key[len(prefix):].split("/")  # exactly one more "/"
    assert len(folder) == 32 and set(folder) <= HEX, key
    assert name and not name.startswith("."), key
    assert "\\" not in name, key
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name), key
    assert len(key.encode()) <= 1024, f"key is {len(key.encode())} bytes"
    return name

