"""Views: the original extension's GET routes, kept for existing scripts, the
persistent download links of resources stored in S3, and the "Upload files" page.

The legacy routes answer plain JSON with real HTTP status codes, never JSONP: a JSONP
credentials endpoint would let any web page read a logged-in user's keys.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
import ckan.views.resource as core_resource_views
import flask
from ckan.lib import signals

from . import authz, config, downloads, grants, keys, storage
from .logic.validators import has_control_characters

legacy = flask.Blueprint("s3multipart_legacy", __name__)

@legacy.before_app_request
def _refuse_unreadable_json() -> flask.Response | None:
    """A 400 for a JSON body to this plugin's actions that Python cannot parse at all.

    Core catches malformed JSON, but not JSON nested deeper than Python's recursion
    limit, which would be a 500 with a traceback in the log."""
    args = flask.request.view_args or {}
    if (flask.request.endpoint != "api.action"
            or not str(args.get("logic_function", "")).startswith("s3multipart_")
            or not flask.request.is_json):
        return None
    try:
        flask.request.get_json(silent=True)
    except RecursionError:
        response = flask.jsonify({"success": False, "error": {
            "__type": "Bad request",
            "message": tk._("JSON Error: the request body is nested too deeply")}})
        response.status_code = 400
        return response
    return None


def _answer(build: Callable[[dict[str, Any], Any], dict[str, Any]], dataset: str) -> flask.Response:
    context = {"user": tk.current_user.name if tk.current_user.is_authenticated else "",
               "auth_user_obj": tk.current_user}
    try:
        if has_control_characters(dataset):
            raise tk.ObjectNotFound(tk._("Dataset not found"))
        tk.check_access("s3multipart_credentials", context, {"id": dataset})
        body, status = build(context, authz.uploadable_dataset(dataset)), 200
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
    return _never_cached(response)


@legacy.route("/api/3/action/get_s3_auth/<dataset>")
def get_s3_auth(dataset: str) -> flask.Response:
    """AssumeRole's answer scoped to the whole dataset prefix, plus that `Prefix`."""
    return _answer(lambda context, package: grants.legacy_sts_credentials(
        package, context["user"]), dataset)


@legacy.route("/api/3/action/get_s3_post/<dataset>")
def get_s3_post(dataset: str) -> flask.Response:
    """A presigned POST whose key ends in the posted file's own name."""
    return _answer(lambda context, package: grants.presigned_post(
        package, context["user"], flask.request.args.get("filename")), dataset)


# Persistent download links ----------------------------------------------------------

def _dataset_types() -> list[str]:
    types = {"dataset"}
    for plugin in p.PluginImplementations(p.IDatasetForm):
        types.update(plugin.package_types())
    return sorted(types)


def download_blueprint() -> flask.Blueprint:
    """Core's download rules, for every dataset type, served first by this plugin.

    Flask matches the first of two identical rules, and plugins' blueprints are
    registered before core's, so these win on CKAN 2.10, 2.11 and 2.12. A new
    blueprint each time: a blueprint takes no rules once registered, and tests make
    many apps.
    """
    blueprint = flask.Blueprint("s3multipart_download", __name__)
    for package_type in _dataset_types():
        for rule, endpoint in (("/<resource_id>/download", "download"),
                               ("/<resource_id>/download/<filename>", "download_file")):
            blueprint.add_url_rule(f"/{package_type}/<id>/resource{rule}",
                                   endpoint=f"{package_type}_{endpoint}", view_func=download,
                                   defaults={"package_type": package_type})
    return blueprint


def download(package_type: str, id: str, resource_id: str,
             filename: str | None = None) -> Any:
    """Resources with `s3_key`: check access, count, 302 to a short-lived presigned GET.
    Any other resource: core's view, unchanged."""
    if has_control_characters(id, resource_id):
        return tk.abort(404, tk._("Resource not found"))
    resource = model.Resource.get(resource_id)
    if resource is None or resource.url_type != "upload" or not resource.extras.get("s3_key"):
        return core_resource_views.download(package_type, id, resource_id, filename)
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    try:
        shown = tk.get_action("resource_show")(dict(context), {"id": resource_id})
        tk.get_action("package_show")(dict(context), {"id": id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Resource not found"))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to download resource"))
    key = shown["s3_key"]
    try:
        url = storage.presign_get(key, config.download_expiry(),
                                  downloads.content_disposition(keys.file_name(key)))
    except storage.StorageError as e:
        return tk.abort(503, tk._("The file cannot be served right now: {}").format(e))
    if flask.request.method != "HEAD":  # link checkers probe with HEAD; that is no download
        downloads.count(shown["id"])
    signals.resource_download.send(resource_id)
    # The URL is a bearer token for the object: no shared cache may keep it for others.
    return _never_cached(flask.redirect(url, 302))


def _never_cached(response: flask.Response) -> flask.Response:
    """Credentials and presigned URLs must not be stored by any cache.

    CKAN 2.12 marks responses `public` after the view unless the request carries
    `__no_cache__`; earlier versions leave the header to the view.
    """
    flask.request.environ["__no_cache__"] = True
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Many files -------------------------------------------------------------------------------

UPLOAD_FILES = "s3multipart_upload_files"


def upload_files_blueprint() -> flask.Blueprint:
    """`/<dataset type>/<id>/upload-files`: many files or folders into new resources."""
    blueprint = flask.Blueprint(UPLOAD_FILES, __name__)
    for package_type in _dataset_types():
        blueprint.add_url_rule(f"/{package_type}/<id>/upload-files", endpoint=package_type,
                               view_func=upload_files, defaults={"package_type": package_type})
    return blueprint


def upload_files(package_type: str, id: str) -> Any:
    """The page where a publisher chooses or drops files and folders (module
    s3multipart-batch); only for users who may upload to the dataset."""
    if has_control_characters(id):
        return tk.abort(404, tk._("Dataset not found"))
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    try:
        pkg_dict = tk.get_action("package_show")(context, {"id": id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Dataset not found"))
    allowed = authz.upload_allowed(dict(context), pkg_dict["id"])
    if not allowed["success"]:
        return tk.abort(403, allowed["msg"])
    return tk.render("s3multipart/upload_files.html", {
        "pkg_dict": pkg_dict, "pkg": context["package"], "dataset_type": package_type,
        "s3mp": {"dataset": pkg_dict["id"], "mode": config.mode(),
                 "max_size": config.max_size(),
                 "files_concurrency": config.files_concurrency(),
                 # What a file is recognised by when it is there already (folders.py).
                 "present": [[r.get("name") or "", r.get("size")]
                             for r in pkg_dict.get("resources", [])]}})


def get_blueprints() -> list[flask.Blueprint]:
    return [legacy, download_blueprint(), upload_files_blueprint()]
