"""An HTTP proxy in front of the store's S3 for browser and client tests: it records the
PUTs of bytes that reach S3 (parts, and whole files sent in one PutObject) and can fail,
slow down or answer ExpiredToken to some of them,
the way a flaky network or store would. Everything else (CORS preflights included) passes through.
"""
from __future__ import annotations

import random
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ..checksums import content_md5
from ..failures import s3_error_field

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length"}


def _s3_error(status: int, code: str, message: str, origin: str | None) -> Response:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    headers = {"Content-Type": "application/xml"}
    if origin:  # as S3 does once the bucket has a CORS rule, so the browser sees the code
        headers.update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
    return Response(body, status=status, headers=headers)


@dataclass
class PartPut:
    """A part's PUT, or a whole file's (part 1 of the upload id "object:<its path>")."""
    part_number: int
    upload_id: str
    size: int
    status: int
    access_key: str
    at: float
    signature: str = ""
    code: str = ""  # the store's error code, when it refused the part


@dataclass
class S3Proxy:
    upstream: str
    fail_rate: float = 0.0           # share of part PUTs answered with 503/500
    fail_limit: int | None = None    # ... but no part more often than this
    delay: float = 0.0               # seconds added to each part PUT
    expire_key: Callable[[str], bool] | None = None  # answer ExpiredToken for these keys
    # Forward these part PUTs with a damaged signature, so that the store itself refuses
    # them (Ceph RGW: 403 AccessDenied, its answer to an expired URL or token too).
    spoil: Callable[[PartPut], bool] | None = None
    # Forward these part PUTs with one byte of the body changed (the length kept), as a
    # faulty network would: a store that checks Content-MD5 refuses them with BadDigest.
    flip: Callable[[PartPut], bool] | None = None
    # Forward these part PUTs with one byte changed and a Content-MD5 that matches the new
    # bytes, as someone on the way who rewrote the part would: only a signature that covers
    # Content-MD5 stops them (the store answers 403: Ceph RGW says SignatureDoesNotMatch
    # to a signed Authorization header, AccessDenied to a presigned URL).
    swap: Callable[[PartPut], bool] | None = None
    seed: int = 1234
    puts: list[PartPut] = field(default_factory=list)
    # Access-Control-Request-Headers of every CORS preflight, split and lower-cased.
    preflight_headers: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.failures, self.tries = {}, {}

    def reset(self, **settings: Any) -> None:
        with self.lock:
            self.puts.clear()
            self.preflight_headers.clear()
            self.fail_rate, self.delay, self.expire_key, self.seed = 0.0, 0.0, None, 1234
            self.spoil, self.fail_limit, self.flip, self.swap = None, None, None, None
            for name, value in settings.items():
                setattr(self, name, value)
            self.random = random.Random(self.seed)
            self.failures: dict[tuple[str, int], int] = {}  # (upload, part): failed tries
            self.tries: dict[tuple[str, int], int] = {}  # (upload, part): tries so far

    def ok_puts(self) -> list[PartPut]:
        return [p for p in self.puts if p.status == 200]

    def __call__(self, environ, start_response):
        request = Request(environ)
        query = urllib.parse.parse_qs(request.query_string.decode())
        origin = request.headers.get("Origin")
        body = request.get_data()
        if request.method == "OPTIONS":
            asked = request.headers.get("Access-Control-Request-Headers", "")
            with self.lock:
                self.preflight_headers.update(h.strip().lower() for h in asked.split(",")
                                              if h.strip())
        if request.method == "PUT" and _puts_bytes(request, query):
            response = self._part_put(request, query, body, origin)
            if response is not None:
                return response(environ, start_response)
        answer = self._forward(request, getattr(request, "_body", body))
        record = getattr(request, "_part", None)
        if record is not None:
            record.status = answer.status_code
            record.code = s3_error_field(answer.get_data(as_text=True), "Code")
        return answer(environ, start_response)

    def _part_put(self, request: Request, query: dict, body: bytes,
                  origin: str | None) -> Response | None:
        access_key, signature = _signed_by(request, query)
        # Recorded when the bytes arrive (status 0 until S3 answers), so a test can tell
        # what was sent before a page went away from what was sent after.
        if "partNumber" in query:
            number, upload = int(query["partNumber"][0]), query["uploadId"][0]
        else:
            number, upload = 1, f"object:{request.path}"
        record = PartPut(number, upload, len(body), 0, access_key, time.time(), signature)
        with self.lock:
            self.puts.append(record)
        if self.delay:
            time.sleep(self.delay)
        if self.expire_key and self.expire_key(access_key):
            record.status = 400
            return _s3_error(400, "ExpiredToken", "The provided token has expired.", origin)
        if self._fails(record):
            with self.lock:
                record.status = self.random.choice([503, 500])
            code = "SlowDown" if record.status == 503 else "InternalError"
            return _s3_error(record.status, code, "injected failure", origin)
        request._part = record  # type: ignore[attr-defined]
        request._spoiled = bool(self.spoil and self.spoil(record))  # type: ignore[attr-defined]
        if body and self.flip and self.flip(record):
            request._body = _flipped(body)  # type: ignore[attr-defined]
        elif body and self.swap and self.swap(record):
            request._body = _flipped(body)  # type: ignore[attr-defined]
            request._md5 = content_md5(request._body)  # type: ignore[attr-defined]
        return None

    def _fails(self, part: PartPut) -> bool:
        """Whether to fail this PUT. Each part's n-th try draws from its own seeded
        generator: the same settings fail the same tries whatever order the parts
        arrive in, so a test does not depend on timing or on the tests before it."""
        which = (part.upload_id, part.part_number)
        with self.lock:
            self.tries[which] = tries = self.tries.get(which, 0) + 1
            failed = self.failures.get(which, 0)
            if self.fail_limit is not None and failed >= self.fail_limit:
                return False
            draw = random.Random(f"{self.seed}/{part.part_number}/{tries}").random()
            if draw >= self.fail_rate:
                return False
            self.failures[which] = failed + 1
            return True

    def _forward(self, request: Request, body: bytes) -> Response:
        # Host goes through unchanged: SigV4 signs it, and a real store checks signatures.
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        path = request.full_path.rstrip("?")
        if getattr(request, "_spoiled", False):
            path = _damage_signature(path, headers)
        if getattr(request, "_md5", None):
            headers = {k: v for k, v in headers.items() if k.lower() != "content-md5"}
            headers["Content-MD5"] = request._md5  # type: ignore[attr-defined]
        answer = requests.request(request.method, self.upstream + path,
                                  data=body, headers=headers, timeout=120,
                                  allow_redirects=False)
        out = [(k, v) for k, v in answer.raw.headers.items()
               if k.lower() not in HOP_BY_HOP and k.lower() != "content-encoding"]
        response = Response(answer.content, status=answer.status_code, headers=out)
        if request.method == "HEAD" and "Content-Length" in answer.headers:
            # A HEAD has no body; its Content-Length is the object's size.
            response.headers["Content-Length"] = answer.headers["Content-Length"]
        return response


def _puts_bytes(request: Request, query: dict) -> bool:
    """A part's PUT or a whole object's; not a copy, nor a PUT of a bucket's settings."""
    if "partNumber" in query:
        return "x-amz-copy-source" not in request.headers
    return (request.path.strip("/").count("/") >= 1 and "x-amz-copy-source" not in request.headers
            and not {"cors", "lifecycle", "acl", "policy", "tagging"} & set(query))


def _flipped(body: bytes) -> bytes:
    return body[:-1] + bytes([body[-1] ^ 0xFF])


def _signed_by(request: Request, query: dict) -> tuple[str, str]:
    """The access key and SigV4 signature of a request: in a presigned URL's query, or in
    its Authorization header (STS mode signs part PUTs in headers)."""
    if "X-Amz-Credential" in query:
        return (query["X-Amz-Credential"][0].split("/")[0],
                query.get("X-Amz-Signature", [""])[0])
    found = re.search(r"Credential=([^/,\s]+)/.*Signature=([0-9a-f]+)",
                      request.headers.get("Authorization", ""))
    return (found.group(1), found.group(2)) if found else ("", "")


def _damage_signature(path: str, headers: dict[str, str]) -> str:
    """The request with one hex digit of its SigV4 signature changed (a presigned URL's
    X-Amz-Signature, or the Signature= of an Authorization header)."""
    def flip(match: re.Match[str]) -> str:
        return match.group(1) + ("0" if match.group(2) != "0" else "1")
    damaged = re.sub(r"(X-Amz-Signature=)([0-9a-f])", flip, path, count=1)
    if damaged == path and "Authorization" in headers:
        headers["Authorization"] = re.sub(r"(Signature=)([0-9a-f])", flip,
                                          headers["Authorization"], count=1)
    return damaged


def serve(app: Any, port: int) -> Any:
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def first_tries(number: int, count: int = 1) -> Callable[[PartPut], bool]:
    """For `flip` (or `spoil`): the first `count` tries of part `number`, in any upload."""
    seen: list[PartPut] = []

    def chosen(part: PartPut) -> bool:
        if part.part_number != number:
            return False
        seen.append(part)
        return len(seen) <= count
    return chosen
