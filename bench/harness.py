"""What every benchmark drives: a store behind the bench proxy, CKAN with the plugin served
over HTTP with every request counted, and Chromium on the resource form; plus the bench's
test files and its units."""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any

import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench import stores
from ckanext.s3multipart.cli.bucket import cors_rule
from ckanext.s3multipart.sizes import human
from ckanext.s3multipart.tests import devsupport

MiB = 1024**2
GiB = 1024**3
HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
BUCKET = stores.BUCKET
ORG = "bench-org"
USER = "bench-publisher"
PASSWORD = "bench-password-123"
QUICK = os.environ.get("BENCH_QUICK") == "1"
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"  # every message of the pages' consoles
PART = 5 * MiB
CONCURRENCY = 4


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Test data ---------------------------------------------------------------------------------

def data_file(size: int) -> pathlib.Path:
    """A file of random bytes (kept in bench/run/data between runs)."""
    folder = HERE / "run" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench-{size // MiB}MiB.bin"
    if not path.exists() or path.stat().st_size != size:
        log(f"writing {path.name} ({human(size)} of random bytes)")
        with open(path, "wb") as out:
            left = size
            while left:
                block = os.urandom(min(left, 64 * MiB))
                out.write(block)
                left -= len(block)
    return path


def sha256_file(path: pathlib.Path) -> str:
    with open(path, "rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


# Services ----------------------------------------------------------------------------------

class Services:
    """A store (bench/stores.py) and the bench proxy in front of it."""

    def __init__(self, store: stores.Store) -> None:
        self.store = store
        self.proxy_port = devsupport.free_port()
        self.proxy_url = f"http://127.0.0.1:{self.proxy_port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proxy = subprocess.Popen([sys.executable, "-m", "bench.netproxy",
                                       str(self.proxy_port), store.url], env=env)
        try:
            stores.wait_port(self.proxy_port)
        except BaseException:
            self.proxy.kill()
            raise
        self.s3 = store.client()

    def proxy_config(self, keep: bool = False, **settings: Any) -> None:
        """New proxy settings; the part records start afresh unless `keep`."""
        requests.post(f"{self.proxy_url}/__bench/config{'?keep=1' if keep else ''}",
                      json=settings, timeout=10)

    def proxy_stats(self) -> dict[str, Any]:
        return requests.get(f"{self.proxy_url}/__bench/stats", timeout=30).json()

    def proxy_parts(self) -> list[dict[str, Any]]:
        return self.proxy_stats()["parts"]

    def uploads_left(self) -> int:
        return len(self.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []))

    def sha256(self, key: str) -> str:
        """The SHA-256 of a stored object, read back from the store."""
        digest = hashlib.sha256()
        for chunk in self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].iter_chunks(8 * MiB):
            digest.update(chunk)
        return digest.hexdigest()

    def drop(self, key: str) -> None:
        """Delete an object so the store does not grow run after run."""
        self.s3.delete_object(Bucket=BUCKET, Key=key)

    def stop(self) -> None:
        self.proxy.terminate()
        try:
            self.proxy.wait(10)
        except subprocess.TimeoutExpired:
            self.proxy.kill()
        self.store.stop()


# CKAN --------------------------------------------------------------------------------------

class Counter:
    """WSGI middleware: every request that reaches CKAN, with the bytes in and out."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.log: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        head = len(environ.get("REQUEST_METHOD", "")) + len(environ.get("PATH_INFO", "")) \
            + len(environ.get("QUERY_STRING", "")) + 12
        head += sum(len(k) - 5 + len(str(v)) + 4 for k, v in environ.items()
                    if k.startswith("HTTP_"))
        entry = {"start": time.time(), "method": environ.get("REQUEST_METHOD"),
                 "path": environ.get("PATH_INFO"),
                 "in": head + int(environ.get("CONTENT_LENGTH") or 0), "out": 0}

        def counting_start_response(status, headers, exc_info=None):
            entry["status"] = status
            entry["out"] += len(status) + 11 + sum(len(k) + len(v) + 4 for k, v in headers)
            return start_response(status, headers, exc_info)

        body = self.app(environ, counting_start_response)
        return self._count(body, entry)

    def _count(self, body: Any, entry: dict[str, Any]) -> Any:
        try:
            for chunk in body:
                entry["out"] += len(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()
            entry["end"] = time.time()
            self.log.append(entry)

    def between(self, start: float, end: float) -> list[dict[str, Any]]:
        return [e for e in self.log if start <= e["start"] <= end]

    def settled(self, start: float, path: str, timeout: float = 30) -> list[dict[str, Any]]:
        """The requests since `start` once one to `path` is logged: an entry is logged when
        the server has sent its body, which can be after the client has read the answer."""
        deadline = time.time() + timeout
        while not any(e["path"].endswith(path) for e in self.between(start, time.time())):
            if time.time() > deadline:
                raise RuntimeError(f"no request to {path} was counted")
            time.sleep(0.05)
        return self.between(start, time.time())


class Ckan:
    def __init__(self, ini: str) -> None:
        from ckan.cli import load_config
        from ckan.common import config
        from ckan.config.middleware import make_app
        from werkzeug.serving import make_server

        devsupport.no_solr()
        conf = load_config(ini)
        import logging
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.url = conf["ckan.site_url"]
        self.config = config
        app = make_app(conf)
        self.flask_app = (app.apps["flask_app"] if hasattr(app, "apps") else app)._wsgi_app
        with self.app_context():
            self.dataset, self.token = self.seed()
        self.counter = Counter(app)
        port = int(self.url.rsplit(":", 1)[1])
        self.server = make_server("127.0.0.1", port, self.counter, threaded=True)
        import threading
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def app_context(self) -> Any:
        """CKAN's application context, for actions called from the bench itself."""
        return self.flask_app.app_context()

    def use(self, services: Services) -> None:
        """Point the plugin at this store (its keys, role and bucket) and let the site's
        pages reach its bucket (CORS)."""
        self.services = services
        store = services.store
        self.settings(endpoint_url=store.url, sts_endpoint_url=store.url, mode="sts",
                      concurrency=CONCURRENCY, aws_access_key_id=store.access_key,
                      aws_secret_access_key=store.secret_key, s3_role=store.role_arn,
                      s3_bucket=store.bucket)
        services.s3.put_bucket_cors(Bucket=store.bucket,
                                    CORSConfiguration={"CORSRules": [cors_rule(self.url)]})

    def settings(self, **values: Any) -> None:
        from ckanext.s3multipart import storage
        for name, value in values.items():
            self.config[f"ckanext.s3multipart.{name}"] = value
        storage._client.cache_clear()

    @staticmethod
    def seed() -> tuple[str, str]:
        """The publisher (editor of an enabled organization), a fresh dataset, a token."""
        import ckan.model as model
        from ckan.logic import get_action

        site_user = get_action("get_site_user")({"ignore_auth": True}, {})["name"]
        context = lambda: {"user": site_user, "ignore_auth": True}  # noqa: E731
        if not model.User.get(USER):
            get_action("user_create")(context(), {"name": USER, "email": "bench@example.org",
                                                  "password": PASSWORD})
        if not model.Group.get(ORG):
            get_action("organization_create")(context(), {
                "name": ORG, "users": [{"name": USER, "capacity": "editor"}]})
        name = f"bench-{int(time.time())}"
        get_action("package_create")(context(), {"name": name, "owner_org": ORG})
        token = get_action("api_token_create")(context(), {"user": USER, "name": name})["token"]
        return name, token

    def stop(self) -> None:
        self.server.shutdown()


# The browser -------------------------------------------------------------------------------

# Bench-only: cap the uploader's XHR timeout (120 s in assets/src/xhr.js) so stalled parts
# time out in seconds rather than minutes. Product code is untouched: this wraps the
# XMLHttpRequest.timeout setter in the page before the bundle runs.
XHR_TIMEOUT_SHIM = """
(() => {
  const cap = %d
  const prop = Object.getOwnPropertyDescriptor(XMLHttpRequest.prototype, 'timeout')
  Object.defineProperty(XMLHttpRequest.prototype, 'timeout', {
    get () { return prop.get.call(this) },
    set (value) { prop.set.call(this, value ? Math.min(value, cap) : cap) },
    configurable: true
  })
})()
"""

FINISHED = """() => document.querySelector('input[name=s3_key]').value ||
  document.querySelector('.s3multipart-failed')"""

STATE = """() => ({
  key: document.querySelector('input[name=s3_key]').value,
  failed: !!document.querySelector('.s3multipart-failed'),
  status: (document.querySelector('.s3multipart-status') || {}).innerText || '',
  retries: Number(document.querySelector('[data-module=s3multipart]')
    .getAttribute('data-retries')) || 0
})"""


class WorkerHeaps:
    """The JS heaps of the browser's Web Workers (the uploader hashes in one), which the
    page's JSHeapUsedSize leaves out: each worker's V8 heap in use plus its ArrayBuffers'
    backing stores, read over the browser's CDP session (Runtime.getHeapUsage). Answers
    arrive as events; `total()` sums the latest of the workers still running."""

    def __init__(self, browser: Any) -> None:
        self.cdp = browser.new_browser_cdp_session()
        self.sessions: dict[str, str] = {}  # target id: session id
        self.latest: dict[str, int] = {}  # session id: bytes
        self.cdp.on("Target.receivedMessageFromTarget", self._answer)
        self.cdp.on("Target.detachedFromTarget",
                    lambda event: self.latest.pop(event["sessionId"], None))

    def _answer(self, event: dict[str, Any]) -> None:
        result = json.loads(event["message"]).get("result", {})
        if "usedSize" in result:
            self.latest[event["sessionId"]] = (result["usedSize"]
                                               + result.get("backingStorageSize", 0))

    def sample(self) -> None:
        """Ask every worker running now for its heap (the answers come with later calls)."""
        workers = {t["targetId"] for t in self.cdp.send("Target.getTargets")["targetInfos"]
                   if t["type"] == "worker"}
        for gone in set(self.sessions) - workers:
            self.latest.pop(self.sessions.pop(gone), None)
        for target in workers:
            try:
                if target not in self.sessions:
                    # Not flattened: Playwright's CDP sessions cannot address a child session.
                    self.sessions[target] = self.cdp.send("Target.attachToTarget", {
                        "targetId": target, "flatten": False})["sessionId"]
                self.cdp.send("Target.sendMessageToTarget", {
                    "sessionId": self.sessions[target],
                    "message": json.dumps({"id": 1, "method": "Runtime.getHeapUsage"})})
            except PlaywrightError:  # the worker ended since getTargets: its heap is gone
                self.latest.pop(self.sessions.pop(target, ""), None)

    def total(self) -> int:
        return sum(self.latest.values())


class Browser:
    def __init__(self, ckan: Ckan) -> None:
        from playwright.sync_api import sync_playwright
        self.ckan = ckan
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=devsupport.CHROMIUM,
                                                       args=devsupport.CHROMIUM_ARGS)
        self.version = self.browser.version
        self.workers = WorkerHeaps(self.browser)

    def context(self, xhr_timeout_ms: int | None = None) -> Any:
        context = self.browser.new_context(base_url=self.ckan.url,
                                           viewport={"width": 1200, "height": 900})
        if xhr_timeout_ms:
            context.add_init_script(XHR_TIMEOUT_SHIM % xhr_timeout_ms)
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto("/user/login")
        page.fill("#field-login", USER)
        page.fill("#field-password", PASSWORD)
        page.click("form#login button[type=submit], form button[type=submit].btn-primary")
        page.wait_for_url(lambda url: "/user/login" not in url)
        page.close()
        return context

    def open_form(self, context: Any) -> tuple[Any, Any]:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.on("console", lambda m: (m.type == "error" or VERBOSE) and log(f"browser: {m.text}"))
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(f"/dataset/{self.ckan.dataset}/resource/new")
        page.click("#resource-s3multipart-button")
        return page, cdp

    def heap(self, cdp: Any) -> int:
        """The page's JS heap in use, and its workers' (the hasher's WASM memory and file
        chunks included)."""
        metrics = cdp.send("Performance.getMetrics")["metrics"]
        self.workers.sample()
        page = int(next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize"))
        return page + self.workers.total()

    def upload(self, context: Any, path: pathlib.Path, save: bool = False,
               timeout: float = 1800, page_cdp: tuple[Any, Any] | None = None,
               before: Any = None) -> dict[str, Any]:
        """Choose `path` in the Large file widget and wait until it is uploaded (or failed).

        Returns seconds from choosing the file to the key appearing in the form, the peak
        JS heap (the page's and its workers') sampled every 0.25 s, the uploader's retries
        and the object key.
        """
        timeout = min(timeout, 60 + path.stat().st_size / MiB)  # 1 MiB/s at worst
        page, cdp = page_cdp or self.open_form(context)
        heap_before = self.heap(cdp)
        peak = heap_before
        started = time.time()
        page.locator('[data-module="s3multipart"] input[type=file]').set_input_files(str(path))
        while True:
            # The page itself polls every 50 ms; the harness calls in 4 times a second (to
            # sample the heap), so its own work on the browser stays small beside the upload.
            try:
                page.wait_for_function(FINISHED, polling=50, timeout=250)
                break
            except PlaywrightTimeout:
                pass
            now = time.time()
            peak = max(peak, self.heap(cdp))
            if before and before(page):
                return {"page": page, "cdp": cdp}
            if now - started > timeout:
                status = page.evaluate(STATE)["status"]
                page.close()
                raise RuntimeError(f"upload of {path.name} timed out after {timeout:.0f} s; "
                                   f"the widget said: {status!r}")
        seconds = time.time() - started
        state = page.evaluate(STATE)
        peak = max(peak, self.heap(cdp))
        if state["failed"]:
            raise RuntimeError(f"upload of {path.name} failed: {state['status']}")
        saved_at = None
        if save:
            page.click("button[name=save].btn-primary")
            page.wait_for_url(lambda url: "/resource/new" not in url)
            saved_at = time.time()
        page.close()
        return {"seconds": seconds, "heap_peak": peak, "heap_before": heap_before,
                "retries": state["retries"], "key": state["key"], "started": started,
                "uploaded_at": started + seconds, "saved_at": saved_at}

    def stop(self) -> None:
        self.browser.close()
        self.playwright.stop()


