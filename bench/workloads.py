"""The benchmarks, one function each: what is uploaded, how, and what is measured. Each
returns its figures as a dict for bench/report.py; none asserts a target."""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from typing import Any

import requests
from boto3.s3.transfer import TransferConfig

from bench.harness import (
    BUCKET,
    CONCURRENCY,
    PART,
    ROOT,
    Browser,
    Ckan,
    GiB,
    MiB,
    Services,
    data_file,
    human,
    log,
    sha256_file,
)

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


def throughput(services: Services, ckan: Ckan, browser: Browser, context: Any,
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


def wan(services: Services, ckan: Ckan, browser: Browser, context: Any,
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


def ckan_work(services: Services, ckan: Ckan, browser: Browser, context: Any,
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
    counted = ckan.counter.settled(began, "resource_create")
    rows.append({"size": big, "how": "upload field", "requests": len(counted),
                 "bytes_in": sum(e["in"] for e in counted),
                 "bytes_out": sum(e["out"] for e in counted), "cpu": cpu,
                 "seconds": seconds, "paths": ["resource_create"]})
    if answer.json()["result"].get("s3_key"):
        services.drop(answer.json()["result"]["s3_key"])
    log(f"CKAN work upload field {human(big)}: {human(rows[-1]['bytes_in'])} in")
    return {"rows": rows}


def memory(services: Services, ckan: Ckan, browser: Browser, context: Any,
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


def resume(services: Services, ckan: Ckan, browser: Browser, context: Any,
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


def credentials(services: Services, ckan: Ckan, clients: int,
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


def planning() -> dict[str, Any]:
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


def faults(services: Services, ckan: Ckan, browser: Browser, size: int,
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


