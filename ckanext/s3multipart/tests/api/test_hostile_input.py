"""Random and hostile input to every action and route: a 4xx CKAN error, never a 5xx,
a traceback or a secret.

Hypothesis draws each field either from values that reach deep into the action (the real
dataset, a real key and upload id) or from hostile JSON: wrong types, NUL and control
characters, numbers beyond 64 bits, nesting, path tricks; plus unknown fields.
"""
from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ckanext.s3multipart import keys

from ..support import BUCKET

pytestmark = pytest.mark.usefixtures("store")


TRICKY_STRINGS = st.sampled_from([
    "", " ", "..", "../..", "/", "\\", "%00", "\x00", "big-data\x00", "a\x00b", "\r\n",
    "\x1b[31m", "\u202e", "\ufeff", "null", "[]", "{}", "0", "-1", "1e309", "x" * 5000,
    "big-data/../other", "../../etc/passwd", "*", "${filename}", "<script>",
])
SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8"), max_size=40),
    TRICKY_STRINGS,
)
HOSTILE = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
SPOILERS = ["\x00", "\n", "\x7f", "\x1f", "/../", "..", "%00", "\\", "*", "\u0085"]
UNKNOWN_FIELDS = st.dictionaries(st.text(min_size=1, max_size=12), HOSTILE, max_size=2)

ACTIONS: dict[str, tuple[str, ...]] = {
    "s3multipart_credentials": ("id", "prefix", "resource_id", "filename"),
    "s3multipart_presigned_post": ("id", "filename"),
    "s3multipart_upload_start": ("id", "filename", "size", "content_type", "resource_id"),
    "s3multipart_upload_sign": ("id", "key", "upload_id", "part_numbers"),
    "s3multipart_upload_list_parts": ("id", "key", "upload_id"),
    "s3multipart_upload_complete": ("id", "key", "upload_id", "parts"),
    "s3multipart_upload_abort": ("id", "key", "upload_id"),
    "s3multipart_download_stats": ("id",),
    # s3_key resources: the chained package_create/package_update checks. Core's own
    # fields get well-formed values (core's answers to hostile ones are core's business).
    "resource_create": ("s3_key",),
    "package_patch": ("resources",),
}
CORE_FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "resource_create": {"package_id": st.just("big-data"),
                        "url_type": st.sampled_from(["upload", "", "link"]),
                        "name": st.text(st.characters(exclude_categories=("Cc", "Cs")),
                                        max_size=20)},
    "package_patch": {"id": st.just("big-data")},
}
HYPOTHESIS = settings(max_examples=60, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture,
                                             HealthCheck.too_slow])


def _spoil(good: str, spoiler: str, where: float) -> str:
    at = int(len(good) * where)
    return good[:at] + spoiler + good[at:]


@pytest.fixture
def targets(env, s3) -> dict[str, list[Any]]:
    """Values that get past validation, so hostile neighbours reach storage and database."""
    prefix = keys.new_upload_prefix(env.org["id"], env.dataset["id"])
    key = prefix + "real.bin"
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    return {
        "id": ["big-data", env.dataset["id"]], "package_id": ["big-data"],
        "prefix": [prefix], "filename": ["data.csv", "a b.csv"], "key": [key],
        "s3_key": [key], "upload_id": [upload_id], "size": [10, 0, 2**40],
        "part_numbers": [[1, 2]], "parts": [[{"part_number": 1, "etag": '"abc"'}]],
        "content_type": ["text/csv"], "url_type": ["upload"], "name": ["n"],
        "url": ["https://example.org/x.csv"], "resource_id": [],
    }


def assert_a_clear_4xx(response: Any, what: str, secret: str) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code < 500, f"{what} answered {response.status_code}:\n{text[:3000]}"
    assert "Traceback" not in text and secret not in text, f"{what}:\n{text[:3000]}"
    if response.status_code >= 400 and response.mimetype == "application/json":
        body = json.loads(text)
        # CKAN's envelope, the legacy routes' {"error": ...}, or (core refusing a body it
        # cannot read as an object) a message.
        assert (body.get("error") and body.get("success") in (False, None)
                if isinstance(body, dict) else isinstance(body, str) and body), text[:2000]


@pytest.mark.parametrize("action", list(ACTIONS))
def test_actions_answer_hostile_input_with_a_4xx(env, app, store, targets, action):
    fields = ACTIONS[action]

    def field_values(name: str) -> st.SearchStrategy[Any]:
        good = targets.get(name) or []
        if not good:
            return HOSTILE
        # A good value with one control character or path trick inside reaches furthest.
        spoiled = st.builds(_spoil, st.sampled_from([g for g in good if isinstance(g, str)]
                                                     or ["x"]),
                            st.sampled_from(SPOILERS), st.floats(0, 1))
        return st.one_of(st.sampled_from(good), spoiled, HOSTILE)

    strategies = {f: field_values(f) for f in fields}
    if action == "package_patch":
        strategies["resources"] = st.lists(st.fixed_dictionaries(
            {"url_type": st.sampled_from(["upload", ""]), "s3_key": field_values("s3_key")}),
            max_size=2)

    @HYPOTHESIS
    @given(data=st.fixed_dictionaries(CORE_FIELDS.get(action, {}), optional=strategies),
           extra=UNKNOWN_FIELDS)
    def send(data: dict[str, Any], extra: dict[str, Any]) -> None:
        body = {**extra, **data}
        response = app.post(f"/api/3/action/{action}", json=body,
                            headers={"Authorization": env.publisher["token"]})
        assert_a_clear_4xx(response, f"{action} {body!r:.300}", store.secret_key)

    send()


PATH_SEGMENTS = st.one_of(
    TRICKY_STRINGS, st.text(st.characters(codec="utf-8"), min_size=1, max_size=30))


@pytest.mark.parametrize("route", [
    "/api/3/action/get_s3_auth/{0}",
    "/api/3/action/get_s3_post/{0}?filename={1}",
    "/dataset/{0}/resource/{1}/download/{2}",
    "/dataset/{0}/resource/{1}/download",
])
def test_routes_answer_hostile_paths_with_a_4xx(env, app, store, route):
    @HYPOTHESIS
    @given(segments=st.lists(PATH_SEGMENTS, min_size=3, max_size=3),
           raw=st.booleans())
    def send(segments: list[str], raw: bool) -> None:
        # Quoted, or left for the client to send as it is (%00 and .. reach the router).
        parts = segments if raw else [urllib.parse.quote(s, safe="") for s in segments]
        url = route.format(*parts)
        response = app.get(url, headers={"Authorization": env.publisher["token"]},
                           follow_redirects=False)
        assert_a_clear_4xx(response, url, store.secret_key)

    send()


MALFORMED = {
    "nested lists": "[" * 5000 + "]" * 5000,
    "nested id": '{"id": ' + "[" * 5000 + "]" * 5000 + "}",
    "nested parts": '{"id": "big-data", "parts": ' + "[" * 3000 + "]" * 3000 + "}",
    "nested objects": '{"a": ' * 3000 + "1" + "}" * 3000,
    "unterminated": '{"id": "big-data"',
    "huge number": '{"id": 1' + "0" * 400 + "}",
    "a string": '"just a string"',
    "a list": '["big-data"]',
    "null": "null",
}


@pytest.mark.parametrize("action", ["s3multipart_credentials", "s3multipart_upload_complete",
                                    "s3multipart_download_stats"])
@pytest.mark.parametrize("body", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_and_deeply_nested_json_is_a_4xx(env, app, store, action, body):
    response = app.post(f"/api/3/action/{action}", data=body, content_type="application/json",
                        headers={"Authorization": env.publisher["token"]})
    assert_a_clear_4xx(response, f"{action} {body[:60]}", store.secret_key)
