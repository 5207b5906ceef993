"""Byte counts for people, shared by the operator commands and the publisher's client
(no CKAN import: the client runs without CKAN)."""
from __future__ import annotations


def human(n: float) -> str:
    """1536 -> '1.5 KiB'; whole bytes below 1 KiB."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def exact(n: int) -> str:
    """10485760 -> '10.0 MiB (10,485,760 bytes)'; below 1 KiB just '5 bytes'."""
    return f"{human(n)} ({n:,} bytes)" if n >= 1024 else f"{n:,} bytes"
