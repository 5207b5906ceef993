"""How the operator's commands speak: failures as one line with what to do, counts and
amounts in words."""
from __future__ import annotations

import ckan.plugins.toolkit as tk

from .. import config, failures, storage
from ..failures import Failure, one_line
from ..keys import site_root

# The errors an operator can act on, each as one line.
friendly = one_line({
    storage.StorageError: lambda e: Failure(str(e), "`ckan s3multipart check` tells what is wrong"),
    (tk.ValidationError, tk.ObjectNotFound, tk.NotAuthorized): lambda e: Failure(ckan_error(e)),
})


def ckan_error(error: Exception) -> str:
    """A CKAN exception as one line (`failures.ckan_error` for a ValidationError's fields)."""
    if isinstance(error, tk.ValidationError):
        return failures.ckan_error(error.error_dict)
    return str(error) or type(error).__name__


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def amount(n: float, unit: str) -> str:
    return f"{n:g} {unit}" if n == 1 else f"{n:g} {unit}s"


def where() -> str:
    """This site's objects as an operator names them: s3://bucket/prefix/."""
    return f"s3://{config.bucket()}/{site_root()}"
