"""The original extension's GET routes, kept for existing scripts.

Plain JSON with real HTTP status codes, never JSONP: a JSONP credentials endpoint would
let any web page read a logged-in user's keys.
"""
from __future__ import annotations

from typing import Any, Callable

import flask
import ckan.plugins.toolkit as tk

from . import authz, storage, uploads

legacy = flask.Blueprint("s3multipart_legacy", __name__)


def _answer(build: Callable[[dict[str, Any], Any], dict[str, Any]], dataset: str) -> flask.Response:
    context = {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}
    try:
        tk.check_access("s3multipart_credentials", context, {"id": dataset})
        body, status = build(context, authz.get_dataset(dataset)), 200
    except tk.ObjectNotFound as e:
        body, status = {"error": str(e) or "Not found"}, 404
    except tk.NotAuthorized as e:
        body, status = {"error": str(e) or "Not authorized"}, 403
    except tk.ValidationError as e:
        body, status = {"error": e.error_dict}, 409
    except storage.StorageError as e:
        body, status = {"error": str(e)}, 409
    response = flask.jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@legacy.route("/api/3/action/get_s3_auth/<dataset>")
def get_s3_auth(dataset: str) -> flask.Response:
    """AssumeRole's answer scoped to the whole dataset prefix, plus that `Prefix`."""
    return _answer(lambda context, package: uploads.legacy_sts_credentials(
        package, context["user"]), dataset)


@legacy.route("/api/3/action/get_s3_post/<dataset>")
def get_s3_post(dataset: str) -> flask.Response:
    """A presigned POST whose key ends in the posted file's own name."""
    return _answer(lambda context, package: uploads.presigned_post(
        package, context["user"], flask.request.args.get("filename")), dataset)


def get_blueprints() -> list[flask.Blueprint]:
    return [legacy]
