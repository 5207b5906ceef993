"""bin/bench's program: the issue-6 benchmarks and fault runs, side by side on one machine.

Real parts only: Debian's Chromium driven by Playwright uploads through the resource form
of CKAN served over HTTP (PostgreSQL, Redis, the plugin), to a store's S3 + STS in
processes of their own (moto's server, a throwaway Ceph RGW: bench/stores.py), directly or
through bench/netproxy.py (latency, bandwidth caps, injected faults). Throughput, WAN and
fault runs are measured on each store; the rest on the first. Prints the tables and writes
them to bench/results.md. Nothing here asserts a timing: each figure is set beside the
issue's target and marked met or not.

Run through bin/bench (which sets up services, the venv and the database first).
BENCH_QUICK=1 shrinks every size (a smoke run of the program, not figures to publish).
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

import requests
from boto3.s3.transfer import TransferConfig
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench import stores

MiB = 1024**2
GiB = 1024**3
HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
BUCKET = stores.BUCKET
ORG = "bench-org"
USER = "bench-publisher"
PASSWORD = "bench-password-123"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
QUICK = os.environ.get("BENCH_QUICK") == "1"
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"  # every message of the pages' consoles
PART = 5 * MiB
CONCURRENCY = 4


def sizes() -> dict[str, int]:
    if QUICK:
        return {"throughput": 32 * MiB, "wan": 16 * MiB, "ckan_small": 16 * MiB,
                "ckan": 64 * MiB, "memory_big": 128 * MiB, "resume": 64 * MiB,
                "fault": 16 * MiB, "fault_runs": 4, "repeat": 1, "load_seconds": 5}
    return {"throughput": 256 * MiB, "wan": 256 * MiB, "ckan_small": 64 * MiB,
            "ckan": 1 * GiB, "memory_big": 4 * GiB, "resume": 128 * MiB,
            "fault": 64 * MiB, "fault_runs": 20, "repeat": 5, "load_seconds": 30}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


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
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


# Services ----------------------------------------------------------------------------------

class Services:
    """A store (bench/stores.py) and the bench proxy in front of it."""

    def __init__(self, store: stores.Store) -> None:
        self.store = store
        self.proxy_port = stores.free_port()
        self.proxy_url = f"http://127.0.0.1:{self.proxy_port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proxy = subprocess.Popen([sys.executable, "-m", "bench.netproxy",
                                       str(self.proxy_port), store.url], env=env)
        stores.wait_port(self.proxy_port)
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


def no_solr() -> None:
    """No Solr here: the package index does nothing and package_show reads PostgreSQL."""
    import ckan.lib.search as search
    from ckan.lib.search.index import NoopSearchIndex
    from ckan.lib.search.query import PackageSearchQuery

    def show(reference: str) -> dict[str, Any]:
        raise search.SearchError("no Solr in the benchmark")

    def run(self, query, permission_labels=None, **kwargs):
        self.count, self.results, self.facets, self.raw_response = 0, [], {}, {}
        return {"results": [], "count": 0}

    search._INDICES["package"] = NoopSearchIndex
    search.show = show
    PackageSearchQuery.run = run


class Ckan:
    def __init__(self, ini: str) -> None:
        from ckan.cli import load_config
        from ckan.common import config
        from ckan.config.middleware import make_app
        from werkzeug.serving import make_server

        no_solr()
        conf = load_config(ini)
        import logging
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.url = conf["ckan.site_url"]
        self.config = config
        app = make_app(conf)
        flask_app = app.apps["flask_app"]._wsgi_app if hasattr(app, "apps") else app._wsgi_app
        with flask_app.app_context():
            self.dataset, self.token = self.seed()
        self.counter = Counter(app)
        port = int(self.url.rsplit(":", 1)[1])
        self.server = make_server("127.0.0.1", port, self.counter, threaded=True)
        import threading
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def use(self, services: Services) -> None:
        """Point the plugin at this store (its keys, role and bucket) and let the site's
        pages reach its bucket (CORS)."""
        self.services = services
        store = services.store
        self.settings(endpoint_url=store.url, sts_endpoint_url=store.url, mode="sts",
                      concurrency=CONCURRENCY, aws_access_key_id=store.access_key,
                      aws_secret_access_key=store.secret_key, s3_role=store.role_arn,
                      s3_bucket=store.bucket)
        services.s3.put_bucket_cors(Bucket=store.bucket, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": [self.url],
            "AllowedMethods": ["PUT", "POST", "GET", "HEAD", "DELETE"],
            "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]})

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


class Browser:
    def __init__(self, ckan: Ckan) -> None:
        from playwright.sync_api import sync_playwright
        self.ckan = ckan
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM,
                                                       args=CHROMIUM_ARGS)
        self.version = self.browser.version

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

    @staticmethod
    def heap(cdp: Any) -> int:
        metrics = cdp.send("Performance.getMetrics")["metrics"]
        return int(next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize"))

    def upload(self, context: Any, path: pathlib.Path, save: bool = False,
               timeout: float = 1800, page_cdp: tuple[Any, Any] | None = None,
               before: Any = None) -> dict[str, Any]:
        """Choose `path` in the Large file widget and wait until it is uploaded (or failed).

        Returns seconds from choosing the file to the key appearing in the form, the peak
        JS heap sampled every 0.25 s, the uploader's retries and the object key.
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


# Benchmarks --------------------------------------------------------------------------------

# The browser's own ceiling: plain XHR PUTs of `file.slice` to part URLs presigned by boto3,
# `concurrency` at a time, no SDK and no uploader around them. What the uploader reaches
# against this tells its own overhead apart from the browser's.
RAW_XHR_PUTS = """async ({ urls, partSize, concurrency }) => {
  const file = document.querySelector('#bench-raw').files[0]
  const etags = new Array(urls.length)
  let next = 0
  const put = (i) => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('PUT', urls[i])
    xhr.onload = () => xhr.status < 300 ? resolve(xhr.getResponseHeader('ETag'))
      : reject(new Error(`part ${i + 1}: ${xhr.status}`))
    xhr.onerror = () => reject(new Error(`part ${i + 1}: network error`))
    xhr.send(file.slice(i * partSize, Math.min(file.size, (i + 1) * partSize)))
  })
  const worker = async () => {
    while (next < urls.length) { const i = next++; etags[i] = await put(i) }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return etags
}"""


def raw_xhr_upload(services: Services, browser: Browser, context: Any, path: pathlib.Path,
                   key: str) -> float:
    """Seconds for a multipart upload whose parts go as plain XHR PUTs (see RAW_XHR_PUTS);
    boto3 starts and completes it, as the uploader's own calls would."""
    page, _ = browser.open_form(context)
    page.evaluate("() => { const i = document.createElement('input'); i.type = 'file'; "
                  "i.id = 'bench-raw'; document.body.append(i) }")
    size = path.stat().st_size
    began = time.time()
    upload = services.s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    urls = [services.s3.generate_presigned_url("upload_part", ExpiresIn=3600, Params={
        "Bucket": BUCKET, "Key": key, "UploadId": upload, "PartNumber": n})
        for n in range(1, -(-size // PART) + 1)]
    page.locator("#bench-raw").set_input_files(str(path))
    etags = page.evaluate(RAW_XHR_PUTS, {"urls": urls, "partSize": PART,
                                         "concurrency": CONCURRENCY})
    services.s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload,
                                          MultipartUpload={"Parts": [
                                              {"PartNumber": n, "ETag": e}
                                              for n, e in enumerate(etags, 1)]})
    seconds = time.time() - began
    page.close()
    return seconds


def bench_throughput(services: Services, ckan: Ckan, browser: Browser, context: Any,
                     size: int, repeat: int) -> dict[str, Any]:
    path = data_file(size)
    transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART,
                              max_concurrency=CONCURRENCY, use_threads=True)
    ckan.settings(endpoint_url=services.store.url, concurrency=CONCURRENCY)
    runs: dict[str, list[float]] = {"boto3": [], "sts": [], "presigned": [], "raw": []}
    heaps: list[int] = []
    # One unmeasured round first: the first upload into a fresh store is the slowest by far
    # (boto3 at 45 MiB/s where the next runs reach 110-130), for whichever client goes first.
    services.s3.upload_file(str(path), BUCKET, "bench/warm-up.bin", Config=transfer)
    services.drop("bench/warm-up.bin")
    services.drop(browser.upload(context, path)["key"])
    for i in range(repeat):
        key = f"bench/boto3-{i}.bin"
        began = time.time()
        services.s3.upload_file(str(path), BUCKET, key, Config=transfer)
        runs["boto3"].append(size / (time.time() - began) / MiB)
        services.drop(key)
        for mode in ("sts", "presigned"):
            ckan.settings(mode=mode)
            result = browser.upload(context, path)
            runs[mode].append(size / result["seconds"] / MiB)
            heaps.append(result["heap_peak"])
            services.drop(result["key"])
        key = f"bench/raw-{i}.bin"
        runs["raw"].append(size / raw_xhr_upload(services, browser, context, path, key) / MiB)
        services.drop(key)
        log(f"throughput run {i + 1}: " + ", ".join(f"{k} {v[-1]:.1f} MiB/s"
                                                    for k, v in runs.items()))
    ckan.settings(mode="sts")
    median = {k: statistics.median(v) for k, v in runs.items()}
    return {"size": size, "runs": runs, "median": median, "heap_peak": max(heaps),
            "ratio_sts": median["sts"] / median["boto3"],
            "ratio_presigned": median["presigned"] / median["boto3"],
            "ratio_raw": median["raw"] / median["boto3"],
            "sts_of_raw": median["sts"] / median["raw"]}


def bench_wan(services: Services, ckan: Ckan, browser: Browser, context: Any,
              size: int, bandwidth: int, repeat: int, latency: float = 0.050) -> dict[str, Any]:
    """Speeds through the bench proxy, end to end and on the wire.

    End to end runs from the first request to the object being complete. On the wire runs
    to the last body byte reaching the proxy's far side: it leaves out the store's work
    after that, hashing and storing a single PUT's body or, for moto, copying every part in
    CompleteMultipartUpload (over a second each for 256 MiB), which S3 and Ceph RGW do not
    make the uploader wait for in the same way.
    """
    path = data_file(size)
    services.proxy_config(latency=latency, bandwidth=bandwidth)
    ckan.settings(endpoint_url=services.proxy_url, mode="sts")
    via_proxy = services.store.client(services.proxy_url)
    url = via_proxy.generate_presigned_url("put_object", Params={
        "Bucket": BUCKET, "Key": "bench/single-put.bin"}, ExpiresIn=3600)
    began = time.time()
    with open(path, "rb") as body:
        answer = requests.put(url, data=body, timeout=600)
    answer.raise_for_status()
    ended = time.time()
    wire_end = services.proxy_stats()["puts"][-1]["body_end"]
    single = {"end_to_end": size / (ended - began) / MiB, "wire": size / (wire_end - began) / MiB}
    services.drop("bench/single-put.bin")
    log(f"WAN single PUT {single['end_to_end']:.2f} MiB/s, on the wire {single['wire']:.2f}")

    transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART,
                              max_concurrency=CONCURRENCY, use_threads=True)

    def boto3_run() -> dict[str, float]:
        services.proxy_config(latency=latency, bandwidth=bandwidth)
        began = time.time()
        via_proxy.upload_file(str(path), BUCKET, "bench/boto3-wan.bin", Config=transfer)
        ended = time.time()
        wire_end = max(p["body_end"] for p in services.proxy_parts())
        services.drop("bench/boto3-wan.bin")
        return {"end_to_end": size / (ended - began) / MiB,
                "wire": size / (wire_end - began) / MiB}

    def browser_run(concurrency: int) -> dict[str, float]:
        ckan.settings(concurrency=concurrency)
        services.proxy_config(latency=latency, bandwidth=bandwidth)
        result = browser.upload(context, path)
        wire_end = max(p["body_end"] for p in services.proxy_parts() if p["outcome"] == "200")
        services.drop(result["key"])
        return {"end_to_end": size / result["seconds"] / MiB,
                "wire": size / (wire_end - result["started"]) / MiB}

    def median(runs: list[dict[str, float]]) -> dict[str, float]:
        return {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    # boto3 and the browser at the default concurrency take turns, `repeat` times: row 1b
    # compares them, and the store's Complete makes single end-to-end runs vary (moto: 10-20%).
    pairs = [(boto3_run(), browser_run(CONCURRENCY)) for _ in range(repeat)]
    boto3_speed = median([b for b, _ in pairs])
    speeds: dict[int, dict[str, float]] = {}
    for concurrency in (1, 2, 4, 6, 8):
        speeds[concurrency] = (median([c for _, c in pairs]) if concurrency == CONCURRENCY
                               else browser_run(concurrency))
        log(f"WAN {human(bandwidth)}/s concurrency {concurrency}: "
            f"{speeds[concurrency]['end_to_end']:.2f} MiB/s, "
            f"on the wire {speeds[concurrency]['wire']:.2f}")
    log(f"WAN boto3 c{CONCURRENCY} {boto3_speed['end_to_end']:.2f} MiB/s, "
        f"on the wire {boto3_speed['wire']:.2f}")
    ckan.settings(endpoint_url=services.store.url, concurrency=CONCURRENCY)
    services.proxy_config()
    return {"size": size, "latency": latency, "bandwidth": bandwidth, "single": single,
            "repeat": repeat,
            "boto3": boto3_speed, "speeds": speeds,
            "speedup": {c: {k: s[k] / single[k] for k in s} for c, s in speeds.items()}}


class StreamedForm:
    """A multipart/form-data body read from disk as it is sent, with its length known,
    so requests streams it (with Content-Length) instead of loading 1 GiB into memory."""

    def __init__(self, fields: dict[str, str], path: pathlib.Path) -> None:
        self.boundary = "bench" + os.urandom(8).hex()
        head = "".join(f"--{self.boundary}\r\nContent-Disposition: form-data; "
                       f"name=\"{k}\"\r\n\r\n{v}\r\n" for k, v in fields.items())
        head += (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"upload\"; "
                 f"filename=\"{path.name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
        self.parts = [head.encode(), path, f"\r\n--{self.boundary}--\r\n".encode()]
        self.length = len(self.parts[0]) + path.stat().st_size + len(self.parts[2])
        self.content_type = f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        yield self.parts[0]
        with open(self.parts[1], "rb") as source:
            while chunk := source.read(1 * MiB):
                yield chunk
        yield self.parts[2]


def bench_ckan_work(services: Services, ckan: Ckan, browser: Browser, context: Any,
                    big: int, small: int) -> dict[str, Any]:
    rows = []
    for size in (small, big):
        path = data_file(size)
        for mode in ("sts", "presigned"):
            ckan.settings(mode=mode, endpoint_url=services.store.url)
            cpu = time.process_time()
            result = browser.upload(context, path, save=True)
            cpu = time.process_time() - cpu
            upload = ckan.counter.between(result["started"], result["uploaded_at"])
            total = ckan.counter.between(result["started"], result["saved_at"])
            # The save POST and nothing after it (the page CKAN then shows is not upload work).
            save = [e for e in total if e["method"] == "POST" and e not in upload][:1]
            counted = upload + save
            rows.append({"size": size, "how": mode, "requests": len(counted),
                         "bytes_in": sum(e["in"] for e in counted),
                         "bytes_out": sum(e["out"] for e in counted),
                         "cpu": cpu, "seconds": result["seconds"],
                         "heap_peak": result["heap_peak"],
                         "paths": sorted({e["path"].rsplit("/", 1)[-1] for e in counted})})
            services.drop(result["key"])
            log(f"CKAN work {mode} {human(size)}: {rows[-1]['requests']} requests, "
                f"{human(rows[-1]['bytes_in'] + rows[-1]['bytes_out'])}")
        ckan.settings(mode="sts")
    # CKAN's own upload field: resource_create with the file, as the form posts it.
    path = data_file(big)
    form = StreamedForm({"package_id": ckan.dataset, "name": path.name}, path)
    began, cpu = time.time(), time.process_time()
    answer = requests.post(f"{ckan.url}/api/3/action/resource_create", data=form,
                           headers={"Authorization": ckan.token,
                                    "Content-Type": form.content_type}, timeout=3600)
    seconds, cpu = time.time() - began, time.process_time() - cpu
    answer.raise_for_status()
    counted = ckan.counter.between(began, time.time())
    rows.append({"size": big, "how": "upload field", "requests": len(counted),
                 "bytes_in": sum(e["in"] for e in counted),
                 "bytes_out": sum(e["out"] for e in counted), "cpu": cpu,
                 "seconds": seconds, "paths": ["resource_create"]})
    if answer.json()["result"].get("s3_key"):
        services.drop(answer.json()["result"]["s3_key"])
    log(f"CKAN work upload field {human(big)}: {human(rows[-1]['bytes_in'])} in")
    return {"rows": rows}


def bench_memory(services: Services, ckan: Ckan, browser: Browser, context: Any,
                 size: int) -> dict[str, Any]:
    path = data_file(size)
    ckan.settings(mode="sts", endpoint_url=services.store.url, concurrency=CONCURRENCY)
    rss_before = services.store.rss()
    result = browser.upload(context, path)
    head = services.s3.head_object(Bucket=BUCKET, Key=result["key"])
    rss_after = services.store.rss()
    services.drop(result["key"])
    log(f"memory {human(size)}: heap peak {human(result['heap_peak'])}, "
        f"{size / result['seconds'] / MiB:.1f} MiB/s")
    return {"size": size, "heap_peak": result["heap_peak"], "seconds": result["seconds"],
            "stored": head["ContentLength"], "store_rss": (rss_before, rss_after)}


def bench_resume(services: Services, ckan: Ckan, browser: Browser, context: Any,
                 size: int) -> dict[str, Any]:
    path = data_file(size)
    part_count = -(-size // PART)
    ckan.settings(mode="sts", endpoint_url=services.proxy_url, concurrency=CONCURRENCY)
    services.proxy_config(bandwidth=8 * MiB)  # slow enough to catch parts mid-flight

    def half_done(page: Any) -> bool:
        return sum(p["outcome"] == "200" for p in services.proxy_parts()) >= part_count / 2

    paused = browser.upload(context, path, before=half_done)
    page = paused["page"]
    done_before = {p["part"] for p in services.proxy_parts() if p["outcome"] == "200"}
    reloaded_at = time.time()
    page.reload()
    # Stored by S3 when the page went away (answers that had not reached the page included).
    stored = {p["part"] for p in services.proxy_parts() if p["outcome"] == "200"}
    gone_at = time.time()
    services.proxy_config(keep=True, bandwidth=0)
    page.click("#resource-s3multipart-button")
    result = browser.upload(context, path, page_cdp=(page, paused["cdp"]))
    records = services.proxy_parts()
    body = services.s3.get_object(Bucket=BUCKET, Key=result["key"])["Body"]
    digest = hashlib.sha256()
    for chunk in body.iter_chunks(8 * MiB):
        digest.update(chunk)
    # Every body byte that reached the proxy, bodies cut short by the reload included.
    received = sum(p["received"] for p in records)
    uploads = {p["upload"] for p in records}
    resent_done = sum(1 for p in records if p["part"] in stored and p["start"] > gone_at)
    services.drop(result["key"])
    ckan.settings(endpoint_url=services.store.url)
    services.proxy_config()
    return {"size": size, "parts": part_count, "done_at_reload": len(done_before),
            "received": received, "overhead": received - size, "resent_done": resent_done,
            "stored_at_reload": len(stored),
            "upload_ids": len(uploads), "sha_ok": digest.hexdigest() == sha256_file(path),
            "reloaded_at": reloaded_at}


def bench_credentials(services: Services, ckan: Ckan, clients: int,
                      seconds: float) -> dict[str, Any]:
    ckan.settings(mode="sts", endpoint_url=services.store.url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "bench.load", ckan.url, ckan.token,
                          ckan.dataset, str(clients), str(seconds)],
                         env=env, capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    latencies = sorted(data["latencies"])

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0

    result = {"clients": clients, "seconds": data["elapsed"], "calls": len(latencies),
              "errors": len(data["errors"]), "rps": len(latencies) / data["elapsed"],
              "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99)}
    log(f"credentials: {result['calls']} calls, p50 {result['p50'] * 1000:.0f} ms, "
        f"p95 {result['p95'] * 1000:.0f} ms, {result['errors']} errors")
    return result


def bench_planning() -> dict[str, Any]:
    from ckanext.s3multipart import parts
    sizes_ = {"1 GiB": GiB, "50 GiB": 50 * GiB, "1 TiB": 1024 * GiB, "5 TiB": 5 * 1024 * GiB}
    plan_js = (ROOT / "ckanext/s3multipart/assets/src/plan.js").as_uri()
    script = (f"const m = await import({json.dumps(plan_js)}); console.log(JSON.stringify("
              f"{json.dumps(list(sizes_.values()))}.map(s => m.planParts(s, {PART}))))")
    browser_plans = json.loads(subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    rows = []
    for (label, size), js in zip(sizes_.items(), browser_plans, strict=True):
        part_size, count = parts.plan(size, PART)
        rows.append({"label": label, "part_size": part_size, "count": count,
                     "browser_agrees": (js["partSize"], js["partCount"]) == (part_size, count)})
    return {"rows": rows}


def bench_faults(services: Services, ckan: Ckan, browser: Browser, size: int,
                 runs: int) -> dict[str, Any]:
    path = data_file(size)
    expected = sha256_file(path)
    timeout_ms = 6000
    context = browser.context(xhr_timeout_ms=timeout_ms)
    ckan.settings(endpoint_url=services.proxy_url, concurrency=CONCURRENCY)
    totals = {"completed": 0, "sha_ok": 0, "part_puts": 0, "503": 0, "reset": 0, "stall": 0,
              "reset_reused": 0, "retries": 0, "left": 0, "failed": []}
    for i in range(runs):
        mode = "sts" if i % 2 == 0 else "presigned"
        ckan.settings(mode=mode)
        services.proxy_config(fault_rate=0.2, stall_seconds=20, seed=100 + i)
        try:
            result = browser.upload(context, path, timeout=900)
        except RuntimeError as error:
            totals["failed"].append(f"run {i + 1} ({mode}): {error}")
            log(str(error))
            continue
        parts_ = services.proxy_parts()
        totals["completed"] += 1
        totals["part_puts"] += len(parts_)
        for kind in ("503", "reset", "stall"):
            totals[kind] += sum(p["outcome"] == kind for p in parts_)
        totals["reset_reused"] += sum(p["outcome"] == "reset" and p["reused"] for p in parts_)
        totals["retries"] += result["retries"]
        body = services.s3.get_object(Bucket=BUCKET, Key=result["key"])["Body"]
        digest = hashlib.sha256()
        for chunk in body.iter_chunks(8 * MiB):
            digest.update(chunk)
        totals["sha_ok"] += digest.hexdigest() == expected
        prefix = result["key"].rsplit("/", 1)[0] + "/"
        totals["left"] += len(services.s3.list_multipart_uploads(
            Bucket=BUCKET, Prefix=prefix).get("Uploads", []))
        services.drop(result["key"])
        log(f"fault run {i + 1}/{runs} ({mode}): {result['seconds']:.1f} s, "
            f"{len(parts_)} part PUTs, {result['retries']} retries")
    totals["left_on_bucket"] = services.uploads_left()
    totals.update(size=size, runs=runs, timeout_ms=timeout_ms)
    services.proxy_config()
    ckan.settings(endpoint_url=services.store.url, mode="sts")
    context.close()
    return totals


# The table ---------------------------------------------------------------------------------

def met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


# Rows measured on every store: (number, benchmark, measured, target, verdict).
Row = tuple[str, str, str, str, str]


def throughput_row(t: dict[str, Any]) -> Row:
    m = t["median"]
    return ("1", f"Throughput, {human(t['size'])}, 4 x 5 MiB, straight to the store (median of "
            f"{len(t['runs']['boto3'])})",
            f"browser STS {m['sts']:.1f} MiB/s, presigned {m['presigned']:.1f} MiB/s; boto3 "
            f"TransferManager {m['boto3']:.1f} MiB/s; ratio **{t['ratio_sts']:.2f}** (STS), "
            f"{t['ratio_presigned']:.2f} (presigned). The browser's own ceiling, plain XHR PUTs "
            f"of the same parts: {m['raw']:.1f} MiB/s ({t['ratio_raw']:.2f} of boto3); the "
            f"uploader reaches {t['sts_of_raw']:.2f} of it",
            ">= 0.9 of boto3", met(t["ratio_sts"] >= 0.9))


def wan_rows(w: dict[str, Any]) -> list[Row]:
    c4, b = w["speeds"][CONCURRENCY], w["boto3"]
    whole, wire = c4["end_to_end"] / b["end_to_end"], c4["wire"] / b["wire"]
    rows = [("1b", f"Throughput through the WAN proxy ({w['latency'] * 1000:.0f} ms per "
             f"request, {human(w['bandwidth'])}/s per connection), {human(w['size'])}, "
             f"4 x 5 MiB (median of {w['repeat']})",
             f"end to end: browser STS {c4['end_to_end']:.1f} MiB/s, boto3 TransferManager "
             f"{b['end_to_end']:.1f} MiB/s, ratio **{whole:.2f}**; on the wire: "
             f"{c4['wire']:.1f} vs {b['wire']:.1f} MiB/s, ratio **{wire:.2f}**",
             ">= 0.9 of boto3",
             f"{met(whole >= 0.9)} end to end, {met(wire >= 0.9)} on the wire")]
    on_wire = ", ".join(f"c{c} {s['wire']:.1f} MiB/s ({w['speedup'][c]['wire']:.1f}x)"
                        for c, s in w["speeds"].items())
    end_to_end = ", ".join(f"c{c} {w['speedup'][c]['end_to_end']:.1f}x" for c in w["speeds"])
    x4 = w["speedup"][CONCURRENCY]
    rows.append(("2", f"WAN: {w['latency'] * 1000:.0f} ms per request, "
                 f"{human(w['bandwidth'])}/s per connection, {human(w['size'])}",
                 f"on the wire: single PUT {w['single']['wire']:.1f} MiB/s; {on_wire}. End to "
                 f"end, the store's CompleteMultipartUpload included: single PUT "
                 f"{w['single']['end_to_end']:.1f} MiB/s; {end_to_end}", "c4 >= 3x single",
                 f"{met(x4['wire'] >= 3)} on the wire, {met(x4['end_to_end'] >= 3)} end to end"))
    return rows


def faults_row(f: dict[str, Any]) -> Row:
    ok = f["completed"] == f["runs"] and f["sha_ok"] == f["runs"] and f["left_on_bucket"] == 0
    # Failures the page can see; a browser re-sends by itself a request whose reused
    # keep-alive connection is reset, so those never reach the uploader's retry loop.
    seen = f["503"] + f["stall"] + f["reset"] - f["reset_reused"]
    return ("F", f"Fault runs: {f['runs']} x {human(f['size'])}, 20% of part PUTs fail "
            "(alternating STS / presigned)",
            f"{f['completed']}/{f['runs']} completed, {f['sha_ok']}/{f['runs']} sha256 match, "
            f"{f['left_on_bucket']} multipart uploads left; {f['part_puts']} part PUTs, "
            f"injected {f['503']} x 503, {f['reset']} x reset ({f['reset_reused']} on a reused "
            f"connection), {f['stall']} x stall; {f['retries']} uploader retries; 503s, stalls "
            f"and resets of new connections: {seen} ("
            + ("equal: Chromium re-sent the others itself" if seen == f["retries"]
               else "not equal") + ")",
            "all complete and match, none left", met(ok))


def store_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    if r.get("throughput"):
        rows.append(throughput_row(r["throughput"]))
    if r.get("wan"):
        rows += wan_rows(r["wan"])
    if r.get("faults"):
        rows.append(faults_row(r["faults"]))
    return rows


def table(r: dict[str, Any], meta: dict[str, str]) -> str:
    out = ["# ckanext-s3multipart benchmarks", "",
           ", ".join(f"{k}: {v}" for k, v in meta.items()), ""]
    measured = {kind: store_rows(rows) for kind, rows in r["stores"].items()}
    if len(measured) > 1:  # side by side, one column a store
        names = [stores.NAMES[kind] for kind in measured]
        out += [f"Rows 1, 1b, 2 and F on each store; rows 3 to 7 on {r['main_store']}.", "",
                "| # | benchmark | " + " | ".join(names) + " | target |",
                "|---|---|" + "---|" * len(names) + "---|"]
        by_number: dict[str, list[Row]] = {}
        for rows in measured.values():
            for row in rows:
                by_number.setdefault(row[0], []).append(row)
        for number, rows in by_number.items():
            cells = " | ".join(f"{row[2]} — {row[4]}" for row in rows)
            out.append(f"| {number} | {rows[0][1]} | {cells} | {rows[0][3]} |")
        out += ["", f"On {r['main_store']}:", ""]
    out += ["| # | benchmark | measured | target | |", "|---|---|---|---|---|"]
    late: list[Row] = []  # the fault runs come last, as they run last
    if len(measured) == 1:
        (rows,) = measured.values()
        late = [row for row in rows if row[0] == "F"]
        out += [f"| {n} | {title} | {cell} | {target} | {verdict} |"
                for n, title, cell, target, verdict in rows if n != "F"]
    c = r.get("ckan")
    if c:
        rows = c["rows"]
        sts = [x for x in rows if x["how"] == "sts"]
        big = max(x["size"] for x in rows)
        cells = "; ".join(f"{x['how']} {human(x['size'])}: {x['requests']} req, "
                          f"{human(x['bytes_in'] + x['bytes_out'])}" for x in rows)
        sts_big = next(x for x in sts if x["size"] == big)
        flat = len({x["requests"] for x in sts}) == 1
        ok = sts_big["bytes_in"] + sts_big["bytes_out"] < 100 * 1024 and flat
        out.append(f"| 3 | Work on CKAN per upload (requests and bytes in + out) | {cells} | "
                   f"STS: < 100 KiB, requests flat in file size | {met(ok)} |")
    mem = r.get("memory")
    if mem:
        cells = ", ".join(f"{human(s)}: {human(h)}" for s, h in mem)
        heaps = [h for _, h in mem]
        ok = max(heaps) < 100 * MiB and max(heaps) - min(heaps) < 10 * MiB
        out.append(f"| 4 | Browser peak JS heap (CDP JSHeapUsedSize, sampled every 0.25 s) | "
                   f"{cells} | flat, < 100 MiB | {met(ok)} |")
    s = r.get("resume")
    if s:
        out.append(f"| 5 | Resume: reload asked at {s['done_at_reload']} of {s['parts']} parts "
                   f"stored ({s['stored_at_reload']} once the old page was gone), "
                   f"{human(s['size'])} | {human(max(0, s['overhead']))} sent twice; "
                   f"{s['resent_done']} stored parts re-sent; sha256 "
                   f"{'ok' if s['sha_ok'] else 'MISMATCH'} | <= 4 x 5 MiB = 20 MiB | "
                   f"{met(s['overhead'] <= CONCURRENCY * PART and s['sha_ok'])} |")
    k = r.get("credentials")
    if k:
        out.append(f"| 6 | s3multipart_credentials, {k['clients']} clients for "
                   f"{k['seconds']:.0f} s | p50 {k['p50'] * 1000:.0f} ms, p95 "
                   f"{k['p95'] * 1000:.0f} ms, p99 {k['p99'] * 1000:.0f} ms; "
                   f"{k['rps']:.1f} calls/s, {k['errors']} errors | (none set; reported) | - |")
    p = r.get("planning")
    if p:
        cells = "; ".join(f"{x['label']}: {human(x['part_size'])} x {x['count']}"
                          for x in p["rows"])
        ok = all(x["count"] <= 10_000 and x["browser_agrees"] for x in p["rows"])
        out.append(f"| 7 | Part planning (server and browser agree: "
                   f"{all(x['browser_agrees'] for x in p['rows'])}) | {cells} | "
                   f"<= 10,000 parts | {met(ok)} |")
    out += [f"| {n} | {title} | {cell} | {target} | {verdict} |"
            for n, title, cell, target, verdict in late]
    if c:
        out += ["", "Work on CKAN, in detail (the save of the resource form included; for the "
                "upload field, the one resource_create POST):", "",
                "| upload | file | requests | bytes in | bytes out | CKAN CPU s | upload s | "
                "actions |", "|---|---|---|---|---|---|---|---|"]
        for x in c["rows"]:
            out.append(f"| {x['how']} | {human(x['size'])} | {x['requests']} | "
                       f"{human(x['bytes_in'])} | {human(x['bytes_out'])} | {x['cpu']:.1f} | "
                       f"{x['seconds']:.1f} | {', '.join(x['paths'])} |")
    for note in r.get("notes", []):
        out.append(f"\n{note}")
    return "\n".join(out) + "\n"


def versions() -> dict[str, str]:
    import importlib.metadata as md
    memory = 0
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "machine": f"{os.cpu_count()} cores, {human(memory)} RAM, {platform.machine()}",
            "CKAN": md.version("ckan"), "Python": platform.python_version()}


# Measured on every store; the rest on the first store asked for (moto by default).
ON_EVERY_STORE = ("throughput", "wan", "faults")
BENCHMARKS = ("throughput", "wan", "ckan", "memory", "resume", "credentials", "planning",
              "faults")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ini", required=True)
    parser.add_argument("--out", default=str(HERE / "results.md"))
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHMARKS))
    parser.add_argument("--stores", default="moto,rgw",
                        help="comma-separated: moto, rgw (Ceph RGW); rows "
                        + ", ".join(ON_EVERY_STORE) + " run on each, the rest on the first")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    kinds = [k for k in args.stores.split(",") if k]
    unknown = (only - set(BENCHMARKS)) | (set(kinds) - set(stores.NAMES))
    if unknown or not kinds:
        parser.error(f"unknown: {', '.join(sorted(unknown)) or 'no store'}")
    size = sizes()
    began = time.time()
    results: dict[str, Any] = {"notes": [], "stores": {}, "main_store": stores.NAMES[kinds[0]]}
    failures: list[str] = []
    meta = versions()
    if not only or "planning" in only:
        results["planning"] = bench_planning()
    ckan = Ckan(args.ini)
    browser = Browser(ckan)
    meta["Chromium"] = browser.version
    try:
        for kind in kinds:
            log(f"starting {stores.NAMES[kind]}")
            store = stores.start(kind)
            meta[store.name] = store.version
            try:
                services = Services(store)
            except BaseException:
                store.stop()
                raise
            try:
                ckan.use(services)
                results["stores"][kind] = run_store(
                    services, ckan, browser, size, results, failures,
                    wanted=lambda name, first=kind == kinds[0]: (
                        (not only or name in only) and (first or name in ON_EVERY_STORE)))
            finally:
                services.stop()
        for failure in failures:
            results["notes"].append(f"FAILED (no figure): {failure}")
    finally:
        browser.stop()
        ckan.stop()
    results["notes"].append(
        f"bin/bench took {(time.time() - began) / 60:.1f} min"
        + (" (BENCH_QUICK=1: reduced sizes)" if QUICK else "") + ".")
    text = table(results, meta)
    print(text)
    pathlib.Path(args.out).write_text(text)
    (HERE / "run").mkdir(exist_ok=True)
    (HERE / "run" / "results.json").write_text(json.dumps(results, indent=1, default=str))


def run_store(services: Services, ckan: Ckan, browser: Browser, size: dict[str, int],
              results: dict[str, Any], failures: list[str], wanted: Any) -> dict[str, Any]:
    """The benchmarks `wanted` on one store: rows for every store are returned, the others
    go into `results`. A benchmark that fails is reported in the table; the others still run."""
    store = services.store
    mine: dict[str, Any] = {}
    context = browser.context()
    heaps: list[tuple[int, int]] = []

    def attempt(name: str, work: Any) -> Any:
        if not wanted(name):
            return None
        try:
            return work()
        except Exception as error:  # noqa: BLE001 - reported, never hidden
            log(f"{name} on {store.name} failed: {error}")
            failures.append(f"{name} on {store.name}: {error}")
            return None

    if t := attempt("throughput", lambda: bench_throughput(
            services, ckan, browser, context, size["throughput"], size["repeat"])):
        mine["throughput"] = t
        heaps.append((size["throughput"], t["heap_peak"]))
    # The example: 50 ms per request, 8 MiB/s per connection.
    if w := attempt("wan", lambda: bench_wan(services, ckan, browser, context, size["wan"],
                                             8 * MiB, min(3, size["repeat"]))):
        mine["wan"] = w
    if c := attempt("ckan", lambda: bench_ckan_work(services, ckan, browser, context,
                                                    size["ckan"], size["ckan_small"])):
        results["ckan"] = c
        heaps.append((size["ckan"], max(x["heap_peak"] for x in c["rows"]
                                        if x["how"] == "sts" and x["size"] == size["ckan"])))
    if big := attempt("memory", lambda: bench_memory(services, ckan, browser, context,
                                                     size["memory_big"])):
        heaps.append((big["size"], big["heap_peak"]))
        before, after = big["store_rss"]
        results["notes"].append(
            f"Memory run {human(big['size'])}: {big['size'] / big['seconds'] / MiB:.1f} MiB/s; "
            f"{store.name}'s resident memory {human(before)} before, {human(after)} after "
            "completing.")
    if heaps and wanted("memory"):
        results["memory"] = sorted(heaps)
    if r := attempt("resume", lambda: bench_resume(services, ckan, browser, context,
                                                   size["resume"])):
        results["resume"] = r
    if k := attempt("credentials", lambda: bench_credentials(services, ckan, 20,
                                                             size["load_seconds"])):
        results["credentials"] = k
    context.close()
    if f := attempt("faults", lambda: bench_faults(services, ckan, browser, size["fault"],
                                                   size["fault_runs"])):
        mine["faults"] = f
        if f["failed"]:
            results["notes"].append(f"Fault runs on {store.name} that did not complete: "
                                    + "; ".join(f["failed"]))
    return mine


if __name__ == "__main__":
    main()
