"""A command's failures as one line (click prints `Error: ...`), never a traceback: the
one wrapper of the operator's commands (`ckan s3multipart ...`) and the publisher's
client (`s3multipart ...`). No CKAN import."""
from __future__ import annotations

import functools
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
