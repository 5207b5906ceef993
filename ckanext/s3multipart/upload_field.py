"""IUploader for resources: CKAN's regular "Upload" field stores into S3.

For datasets of an enabled organization a new file goes to
`<dataset prefix>/<fresh upload segment>/<safe file name>`, the same layout as browser
uploads, and the resource gets `s3_key`, `size` and `mimetype`, like any s3_key resource.

Like core's ResourceUpload, the work is split in two: the constructor (run before
validation) picks the key and fills in the resource dict; `upload()` (run after the
resource is flushed, before commit) streams the bytes. So nothing is stored for a
request that fails validation, a failed transfer rolls the resource back, and the
object's metadata can name the resource id, known only then.

CKAN 2.10/2.11's resource_create builds the uploader before package_update checks the
`s3_key`s (2.12 builds it inside package_update, after the check), so `resource_keys.check`
asks `is_pending` to tell a key this process is about to write from a client's key that
must already exist.
"""
from __future__ import annotations

import datetime
import logging
import weakref
from typing import IO, Any

import ckan.lib.uploader as core_uploader
import ckan.model as model
import ckan.plugins.toolkit as tk
import flask
import magic
from werkzeug.datastructures import FileStorage

from . import authz, checksums, config, grants, keys, limits, media_types, storage

log = logging.getLogger(__name__)

MB = 1024**2
_MAGIC_BYTES = 64 * 1024

# Keys chosen by live uploaders whose bytes are not stored yet. Weak values: an entry
# goes away with its uploader when the action that made it ends, whatever happened.
_pending: weakref.WeakValueDictionary[str, S3ResourceUpload] = weakref.WeakValueDictionary()


def is_pending(key: str) -> bool:
    """True if `key` was chosen in this process by an uploader that will write it."""
    return key in _pending


def _invalid(message: str) -> tk.ValidationError:
    return tk.ValidationError({"upload": [message]})


def _new_file(data_dict: dict[str, Any]) -> FileStorage | None:
    field = data_dict.get("upload")
    return field if isinstance(field, FileStorage) and field.filename else None


def _dataset_of(data_dict: dict[str, Any], stored: model.Resource | None) -> model.Package | None:
    package_id = data_dict.get("package_id") or (stored.package_id if stored else None)
    return model.Package.get(package_id) if package_id else None


def _user_name() -> str:
    if flask.has_request_context() and tk.current_user.is_authenticated:
        return tk.current_user.name
    return ""


def guess_mimetype(name: str, stream: IO[bytes]) -> str | None:
    """The mimetype core's own upload field records for this file, by `ckan.mimetype_guess`:
    from the name (`file_ext`, the default), from the first bytes (`file_contents`), or
    none at all (any other value). None when there is no guess, as in core."""
    mode = tk.config.get("ckan.mimetype_guess")
    if mode == "file_ext":
        return media_types.guess(name)
    if mode == "file_contents":
        # libmagic decides from a file's head; core reads the whole file into memory.
        head = stream.read(_MAGIC_BYTES)
        stream.seek(0)
        return magic.from_buffer(head, mime=True) or None
    return None


def _core_uploader() -> Any:
    """Core's own uploader of a resource without a new file: CKAN 2.12's file storage when
    `ckan.files.default_storages.resource` names one, else `ckan.storage_path`."""
    if hasattr(core_uploader, "FKResourceUpload"):  # CKAN 2.12+
        from ckan.lib import files
        try:
            files.get_storage(tk.config["ckan.files.default_storages.resource"])
        except files.exc.UnknownStorageError:
            pass
        else:
            return core_uploader.FKResourceUpload({})
    return core_uploader.ResourceUpload({})


def get_resource_uploader(data_dict: dict[str, Any]) -> S3ResourceUpload | None:
    """The uploader for one resource dict, or None to let CKAN's default handle it.

    Ours for a new file in a dataset of an enabled organization, and for clearing or
    keeping the file of a resource that has an `s3_key` (whatever its organization).
    Everything else, including files CKAN stored locally, stays with core.
    """
    stored = model.Resource.get(data_dict["id"]) if data_dict.get("id") else None
    s3_backed = bool(data_dict.get("s3_key") or (stored and stored.extras.get("s3_key")))
    if _new_file(data_dict):
        package = _dataset_of(data_dict, stored)
        if package is not None and authz.enabled(package):
            return S3ResourceUpload(data_dict, package, stored)
        if s3_backed:
            # CKAN's own storage takes the new file; a key left behind would keep
            # serving the old object from the download link.
            data_dict.pop("s3_key", None)
        return None
    if s3_backed:
        return S3ResourceUpload(data_dict, _dataset_of(data_dict, stored), stored)
    return None


class S3ResourceUpload:
    """A resource's file in S3; the interface is core's ResourceUpload's.

    `filesize` and `mimetype` exist only when a new file arrives: core copies them into
    the resource whenever the attributes exist.
    """

    def __init__(self, resource: dict[str, Any], package: model.Package | None,
                 stored: model.Resource | None) -> None:
        self.package = package
        self.key: str | None = None
        self.upload_file: IO[bytes] | None = None
        field = resource.pop("upload", None)
        self.clear = resource.pop("clear_upload", None)
        if isinstance(field, FileStorage) and field.filename and package is not None:
            self._receive(resource, package, field)
        elif self.clear:
            self._clear(resource, stored)
        else:
            self._keep(resource, stored)

    def _receive(self, resource: dict[str, Any], package: model.Package,
                 field: FileStorage) -> None:
        stream = field.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        limit = min(core_uploader.get_max_resource_size() * MB, config.max_size())
        problem = limits.too_large(size, limit, through=" through the upload field")
        if problem:
            raise _invalid(problem)
        key = grants.new_key(package, field.filename or "", field="upload")
        name = keys.file_name(key)
        self.key, self.upload_file = key, stream
        self.filesize = size
        self.mimetype = guess_mimetype(name, stream)
        self.user = _user_name()
        # The server read these bytes itself: its SHA-256 replaces any claimed `hash`.
        resource.update(s3_key=key, url=name, url_type="upload", size=size,
                        mimetype=self.mimetype, hash=checksums.sha256_of(stream),
                        hash_algorithm=checksums.HASH_ALGORITHM,
                        # Naive UTC, as core's ResourceUpload sets it.
                        last_modified=datetime.datetime.now(datetime.timezone.utc)
                        .replace(tzinfo=None))
        _pending[key] = self

    @staticmethod
    def _clear(resource: dict[str, Any], stored: model.Resource | None) -> None:
        # As core: the resource stops being an upload. The object stays in the bucket
        # (no lost data); `ckan s3multipart orphans` lists it.
        resource["url_type"] = ""
        resource.pop("s3_key", None)
        url = str(resource.get("url") or "")
        if stored is not None and stored.url and url.rsplit("/", 1)[-1] == stored.url:
            # The old file's own download link, which would now redirect to itself.
            resource["url"] = ""

    @staticmethod
    def _keep(resource: dict[str, Any], stored: model.Resource | None) -> None:
        # Core keeps an uploaded file while the resource stays an upload: the file is
        # named by the resource id, and an update that leaves out `url_type` (as scripts
        # and harvesters do) keeps the stored one. Here the file is named by `s3_key`, an
        # extra that any update not sending it back would drop, detaching the object.
        if stored is None or not stored.extras.get("s3_key") or resource.get("s3_key"):
            return
        # None is "not given" too: core's schema drops it, and the stored url_type stays.
        url_type = resource.get("url_type")
        if (stored.url_type if url_type is None else url_type) != "upload":
            return  # made a link or "no file": the object stays, `orphans` lists it
        resource["s3_key"] = stored.extras["s3_key"]
        for field in ("size", "mimetype", "url", "hash"):
            if resource.get(field) in (None, ""):
                resource[field] = getattr(stored, field)
        if resource.get("hash") == stored.hash and stored.extras.get("hash_algorithm"):
            resource.setdefault("hash_algorithm", stored.extras["hash_algorithm"])

    def get_path(self, id: str) -> Any:
        """Where CKAN's own storage keeps a resource's file (files stored before S3)."""
        return _core_uploader().get_path(id)

    def upload(self, id: str, max_size: int = 10) -> None:
        """Stream the new file (if any) to S3 now that the resource id is known."""
        if self.key is None or self.upload_file is None or self.package is None:
            return
        metadata = grants.metadata(self.package, self.user, id)
        try:
            storage.upload_fileobj(self.key, self.upload_file, self.filesize,
                                   media_types.content_type(self.mimetype), metadata)
        except storage.StorageError as e:
            raise _invalid(tk._("The file could not be stored: {}").format(e)) from None
        finally:
            self.upload_file.close()
            _pending.pop(self.key, None)
        log.info("Stored resource %s file in S3 as %s (%d bytes)", id, self.key, self.filesize)
