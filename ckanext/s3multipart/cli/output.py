"""How the operator's commands speak: failures as one line with what to do, counts and
amounts in words."""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
import click

from .. import config, storage
from ..keys import site_root


class Failure(click.ClickException):
    """A one-line error with what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message}; {hint}" if hint else message)


def friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors an operator can act on into one line (click prints `Error: ...`)."""
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except storage.StorageError as e:
            raise Failure(str(e), "`ckan s3multipart check` tells what is wrong") from None
        except (tk.ValidationError, tk.ObjectNotFound, tk.NotAuthorized) as e:
            raise Failure(ckan_error(e)) from None
    return run


def ckan_error(error: Exception) -> str:
    if isinstance(error, tk.ValidationError):
        return json.dumps(error.error_dict, ensure_ascii=False)
    return str(error) or type(error).__name__

def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def amount(n: float, unit: str) -> str:
    return f"{n:g} {unit}" if n == 1 else f"{n:g} {unit}s"


def where() -> str:
    """This site's objects as an operator names them: s3://bucket/prefix/."""
    return f"s3://{config.bucket()}/{site_root()}"
