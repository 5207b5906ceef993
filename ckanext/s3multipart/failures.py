"""Failures as one line: CKAN's error objects (`ckan_error`), and a command's failures
(click prints `Error: ...`, never a traceback) through the one wrapper of the operator's
commands (`ckan s3multipart ...`) and the publisher's client (`s3multipart ...`).
No CKAN import."""
from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

import click


class Failure(click.ClickException):
    """A one-line error with what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message}; {hint}" if hint else message)


Describe = Callable[[Exception], Failure]


def one_line(known: Mapping[type[Exception] | tuple[type[Exception], ...], Describe],
             interrupted: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator for click commands: an error of a `known` kind becomes the Failure its
    function describes; with `interrupted`, Ctrl-C prints it and exits with 130."""
    def wrap(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return command(*args, **kwargs)
            except KeyboardInterrupt:
                if not interrupted:
                    raise
                click.echo(f"\n{interrupted}", err=True)
                sys.exit(130)
            except Exception as error:
                for kinds, describe in known.items():
                    if isinstance(error, kinds):
                        raise describe(error) from None
                raise
        return run
    return wrap


def ckan_error(error: Mapping[str, Any]) -> str:
    """CKAN's error object (an API answer's `error`, a ValidationError's `error_dict`) as
    one line: the message, or `field: message` per field, nested resources included. The
    browser says the same (assets/src/errors.js, `ckanError`)."""
    if error.get("message"):
        return str(error["message"])
    parts: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                if not name.startswith("__"):
                    walk(inner, name)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            parts.append(f"{path}: {' '.join(value)}" if path else " ".join(value))
        elif isinstance(value, list):
            for inner in value:
                walk(inner, path)
        elif value:
            parts.append(f"{path}: {value}")

    walk(error, "")
    return "; ".join(parts) or str(error.get("__type") or "unknown error")


def s3_error_field(text: str, name: str) -> str:
    """One field (`Code`, `Message`) of S3's XML error answer ("" when it has none)."""
    match = re.search(f"<{name}>([^<]*)</{name}>", text)
    return match.group(1) if match else ""


def s3_error(status: int | str, code: str = "", message: str = "") -> str:
    """An S3 error answer as one line (the browser's `s3Error` says the same)."""
    return f"S3 answered {status}{f' {code}' if code else ''}{f': {message}' if message else ''}"
