"""Helpers the tests call (fixtures live in conftest.py and fixtures/): the bucket's name,
the action API as a script calls it, the Upload field, download links and
`ckan s3multipart ...` commands."""
from __future__ import annotations

import io
from typing import Any

from ckan.cli.cli import ckan

BUCKET = "ckan-test-bucket"


class Api:
    """The action API over CKAN's test app, as a script with an API token would call it."""

    def __init__(self, app):
        self.app = app

    def call(self, action: str, user: dict[str, Any] | None = None, status: int = 200,
             **data: Any) -> dict[str, Any]:
        headers = {"Authorization": user["token"]} if user else {}
        response = self.app.post(f"/api/3/action/{action}", json=data, headers=headers,
                                 status=status)
        body = response.json
        return body["result"] if status == 200 else body["error"]


def post_file(app, user: dict[str, Any] | None, action: str, file_name: str, body: bytes,
              status: int = 200, **fields: Any) -> dict[str, Any]:
    """Call resource_create/resource_update as CKAN's form and API clients do: a
    multipart/form-data POST with the file in the `upload` field."""
    headers = {"Authorization": user["token"]} if user else {}
    response = app.post(f"/api/3/action/{action}", headers=headers, status=status,
                        data={**fields, "upload": (io.BytesIO(body), file_name)},
                        content_type="multipart/form-data")
    return response.json["result"] if status == 200 else response.json["error"]


def download(app, resource: dict[str, Any], user: dict[str, Any] | None = None,
             filename: str | None = "", method: str = "GET", dataset: str = "big-data",
             package_type: str = "dataset"):
    """Follow a resource's persistent link once, without following the redirect."""
    url = f"/{package_type}/{dataset}/resource/{resource['id']}/download"
    if filename is not None:
        url += "/" + (filename or resource["url"].rsplit("/", 1)[-1])
    headers = {"Authorization": user["token"]} if user else {}
    return app.test_client().open(url, method=method, headers=headers, follow_redirects=False)


def run(cli, *args: str, status: int = 0, input: str | None = None) -> Any:
    """`ckan s3multipart ARGS` through CKAN's own entry point, asserting its exit status;
    no traceback ever."""
    result = cli.invoke(ckan, ["s3multipart", *args], input=input)
    output = result.output
    print(output)
    assert "Traceback" not in output, output
    assert result.exit_code == status, f"exit {result.exit_code}:\n{output}\n{result.exception!r}"
    return result


def log_in(page: Any, user: dict[str, Any]) -> None:
    """Log a Playwright page in through CKAN's login form (factories' password)."""
    page.goto("/user/login")
    page.fill("#field-login", user["name"])
    page.fill("#field-password", "correct123")
    page.click("form#login button[type=submit], form button[type=submit].btn-primary")
    page.wait_for_url(lambda url: "/user/login" not in url)

