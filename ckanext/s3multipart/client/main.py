"""`s3multipart upload ...` and `s3multipart download ...`, the publisher's commands."""
from __future__ import annotations

import contextlib
import email.message
import hashlib
import os
import pathlib
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import click
import requests

from ..failures import Failure, one_line
from ..sizes import human as human_size
from .api import ApiError, Ckan
from .batch import Batch
from .publish import Upload
from .transfer import UploadError

MAX_REDIRECTS = 5


# The server's message or what went wrong, in one line; Ctrl-C says how to go on.
_friendly = one_line({(ApiError, UploadError, OSError): lambda e: Failure(str(e))},
                     interrupted="Interrupted: run the same command again to resume.")


def _progress(length: int, label: str) -> Any:
    return click.progressbar(length=length, label=label, file=sys.stderr,
                             show_eta=True, show_percent=True)


def site_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--api-token", envvar="CKAN_API_TOKEN", required=True,
                           help="A CKAN API token (or set CKAN_API_TOKEN).")(command)
    return click.option("--ckan-url", envvar="CKAN_URL", required=True, metavar="URL",
                        help="The CKAN site, e.g. https://data.example.org "
                             "(or set CKAN_URL).")(command)


@click.group()
def main() -> None:
    """Upload files into CKAN resources straight to S3, and download them
    (ckanext-s3multipart). Needs only the site's URL and an API token."""


@main.command(short_help="Upload files or folders into a dataset's resources.")
@site_options
@click.option("--dataset", metavar="NAME",
              help="The dataset (name or id) to add the files to.")
@click.option("--resource-id", metavar="ID",
              help="Replace the file of this resource instead (one FILE).")
@click.option("--concurrency", type=click.IntRange(1, 64),
              help="Parts in flight at once per file (default: the site's setting).")
@click.option("--files-concurrency", type=click.IntRange(1, 16),
              help="With folders: files in flight at once (default: the site's setting).")
@click.option("--include-system-files", is_flag=True,
              help="With folders: upload .DS_Store, Thumbs.db and the like too.")
@click.argument("files", nargs=-1, required=True, metavar="FILE|DIR...",
                type=click.Path(exists=True, readable=True, path_type=pathlib.Path))
@_friendly
def upload(ckan_url: str, api_token: str, dataset: str | None, resource_id: str | None,
           concurrency: int | None, files_concurrency: int | None,
           include_system_files: bool, files: tuple[pathlib.Path, ...]) -> None:
    """Upload FILEs as new resources of a dataset, or replace a resource's file; or
    upload whole folders (DIR), each file a resource named by its path from the folder
    (survey/2024/01/day.csv), skipping those the dataset has (same name and size).

    Parts go straight to S3, several at a time, each retried on failure. Interrupted?
    Run the same command again: it resumes where it stopped."""
    api = Ckan(ckan_url, api_token)
    if any(path.is_dir() for path in files):
        if resource_id:
            raise click.UsageError("--resource-id replaces one resource's file: give one FILE")
        if not dataset:
            raise click.UsageError("give --dataset NAME to upload folders into")
        outcome = Batch(api, dataset, concurrency, files_concurrency,
                        say=lambda text: click.echo(text, err=True)).run(
                            files, include_system_files)
        if outcome.failed:
            raise Failure(f"{len(outcome.failed)} file(s) failed: "
                          + ", ".join(outcome.failed[:5])
                          + (", ..." if len(outcome.failed) > 5 else ""))
        return
    if resource_id:
        if len(files) > 1:
            raise click.UsageError("--resource-id replaces one resource's file: give one FILE")
        resource = api.call("resource_show", id=resource_id)
        dataset = dataset or resource["package_id"]
    if not dataset:
        raise click.UsageError("give --dataset NAME (or --resource-id ID)")
    for path in files:
        resource = Upload(api, path, dataset, resource_id, concurrency,
                          say=lambda text: click.echo(text, err=True),
                          progress=_progress).run()
        click.echo(f"{path}: {human_size(resource.get('size') or 0)} in resource {resource['id']} "
                   f"of dataset {dataset}: {resource.get('url')}")


def _file_name(response: requests.Response, url: str) -> str:
    """The name S3 (Content-Disposition) or the link gives the file, never a path."""
    message = email.message.Message()
    message["content-disposition"] = response.headers.get("Content-Disposition", "")
    name = message.get_filename() or urllib.parse.unquote(
        urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    name = os.path.basename(name.replace("\\", "/")).lstrip(".")
    return name or "download"


def _get(api: Ckan, url: str) -> requests.Response:
    """GET `url`, following redirects by hand so that the API token goes to CKAN only
    (never to S3, whose presigned URL carries its own authorization)."""
    for _ in range(MAX_REDIRECTS + 1):
        headers = {"Authorization": api.token} if api.same_site(url) else {}
        try:
            response = api.http.get(url, headers=headers, stream=True,
                                    allow_redirects=False, timeout=(10, 300))
        except requests.RequestException as e:
            raise Failure(f"cannot download {url} ({type(e).__name__})") from None
        if response.is_redirect:
            url = urllib.parse.urljoin(url, response.headers["Location"])
            response.close()
            continue
        if not response.ok:
            raise Failure(f"{urllib.parse.urlsplit(url).netloc} answered {response.status_code} "
                          f"{response.reason} for {url.split('?')[0]}")
        response.url = url
        return response
    raise Failure(f"more than {MAX_REDIRECTS} redirects from {url}")


class Mismatch(Failure):
    """What was received is not the file the resource's checksum describes."""


@contextlib.contextmanager
def _partial(target: pathlib.Path) -> Iterator[Any]:
    """A file written next to `target` that becomes it only when complete. A download
    whose checksum does not match is kept as `.part`, for inspection."""
    partial = target.with_name(target.name + ".part")
    keep = False
    try:
        with open(partial, "wb") as f:
            yield f
        os.replace(partial, target)
    except Mismatch:
        keep = True
        raise
    finally:
        if not keep:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()


def _expected_sha256(resource: dict[str, Any]) -> str | None:
    """The SHA-256 the resource records for its file, if it records one."""
    value = str(resource.get("hash") or "").strip().lower()
    algorithm = str(resource.get("hash_algorithm") or "sha256").lower().replace("-", "")
    if algorithm == "sha256" and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value
    return None


@main.command(short_help="Download a resource's file.")
@site_options
@click.option("--resource", "resource_id", required=True, metavar="ID",
              help="The resource whose file to download.")
@click.option("-o", "--output", type=click.Path(path_type=pathlib.Path),
              help="File (or existing folder) to write; default: the file's own name here.")
@_friendly
def download(ckan_url: str, api_token: str, resource_id: str,
             output: pathlib.Path | None) -> None:
    """Download a resource's file through its CKAN link (which checks access, counts
    the download and redirects to S3)."""
    api = Ckan(ckan_url, api_token)
    resource = api.call("resource_show", id=resource_id)
    if not resource.get("url"):
        raise Failure(f"resource {resource_id} has no file or link")
    response = _get(api, resource["url"])
    name = _file_name(response, response.url)
    target = output or pathlib.Path(name)
    if target.is_dir():
        target = target / name
    length = int(response.headers.get("Content-Length") or 0)
    expected = _expected_sha256(resource)
    digest = hashlib.sha256()
    received = 0
    with response, _partial(target) as f, _progress(length, name) as bar:
        for chunk in response.iter_content(1024**2):
            f.write(chunk)
            digest.update(chunk)
            received += len(chunk)
            bar.update(len(chunk))
        if length and received != length:
            raise Failure(f"the download stopped after {received:,} of {length:,} bytes; "
                          "run the command again")
        if expected and digest.hexdigest() != expected:
            raise Mismatch(f"checksum mismatch: resource {resource_id} records SHA-256 "
                           f"{expected}, the download is {digest.hexdigest()}; kept as "
                           f"{target.name}.part")
    checked = "SHA-256 matches the resource's" if expected else "no checksum on the resource"
    click.echo(f"{target}: {human_size(received)} from resource {resource_id} ({checked})")
