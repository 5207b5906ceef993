"""Throughput benchmarks: the uploader against boto3, against the browser's own ceiling
(plain XHR PUTs) and against itself without digests, straight to the store and over a
slow WAN. Each returns its figures for bench/report.py; none asserts a target."""
from __future__ import annotations

import pathlib
import statistics
import subprocess
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
    MiB,
    Services,
    data_file,
    human,
    log,
)

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


# The uploader as it was before it hashed (the last commit whose bundle sends no Content-MD5
# and computes no SHA-256): served in place of today's bundle, it is the "without digests"
# of row 1d, measured in the same run as the uploader of this tree.
BEFORE_DIGESTS = "7eb53cb"
BUNDLE = "ckanext/s3multipart/assets/dist/s3multipart.js"
BUNDLE_URL = "**/webassets/s3multipart/*_s3multipart.js"


def upload_without_digests(browser: Browser, context: Any, path: pathlib.Path) -> dict[str, Any]:
    """Browser.upload, with the form's page given the uploader from before digests.
    `context` is one of its own (its HTTP cache then never serves the old bundle to the
    uploader of this tree). The route lasts only while the page loads: with a route set,
    Playwright intercepts every request of the context, the part PUTs too."""
    bundle = subprocess.run(["git", "show", f"{BEFORE_DIGESTS}:{BUNDLE}"], cwd=ROOT,
                            capture_output=True, check=True).stdout

    def serve(route: Any) -> None:
        route.fulfill(status=200, body=bundle, content_type="application/javascript")

    context.route(BUNDLE_URL, serve)
    try:
        page_cdp = browser.open_form(context)
    finally:
        context.unroute(BUNDLE_URL, serve)
    return browser.upload(context, path, page_cdp=page_cdp)


def throughput(services: Services, ckan: Ckan, browser: Browser, context: Any,
               size: int, repeat: int) -> dict[str, Any]:
    path = data_file(size)
    plain = browser.context()  # the uploader from before digests, in a cache of its own
    transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART,
                              max_concurrency=CONCURRENCY, use_threads=True)
    ckan.settings(endpoint_url=services.store.url, concurrency=CONCURRENCY)
    runs: dict[str, list[float]] = {"boto3": [], "sts": [], "presigned": [], "raw": [],
                                    "sts_plain": [], "presigned_plain": []}
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
            result = upload_without_digests(browser, plain, path)
            runs[f"{mode}_plain"].append(size / result["seconds"] / MiB)
            services.drop(result["key"])
        key = f"bench/raw-{i}.bin"
        runs["raw"].append(size / raw_xhr_upload(services, browser, context, path, key) / MiB)
        services.drop(key)
        log(f"throughput run {i + 1}: " + ", ".join(f"{k} {v[-1]:.1f} MiB/s"
                                                    for k, v in runs.items()))
    ckan.settings(mode="sts")
    plain.close()
    median = {k: statistics.median(v) for k, v in runs.items()}
    return {"size": size, "runs": runs, "median": median, "heap_peak": max(heaps),
            "digests_sts": median["sts"] / median["sts_plain"],
            "digests_presigned": median["presigned"] / median["presigned_plain"],
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

    plain = browser.context()  # the uploader from before digests, in a cache of its own

    def browser_run(concurrency: int, digests: bool = True) -> dict[str, float]:
        ckan.settings(concurrency=concurrency)
        services.proxy_config(latency=latency, bandwidth=bandwidth)
        result = (browser.upload(context, path) if digests
                  else upload_without_digests(browser, plain, path))
        wire_end = max(p["body_end"] for p in services.proxy_parts() if p["outcome"] == "200")
        services.drop(result["key"])
        return {"end_to_end": size / result["seconds"] / MiB,
                "wire": size / (wire_end - result["started"]) / MiB}

    def median(runs: list[dict[str, float]]) -> dict[str, float]:
        return {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    # boto3, the browser at the default concurrency and the uploader from before digests
    # take turns, `repeat` times: rows 1b and 1e compare them, and the store's Complete
    # makes single end-to-end runs vary (moto: 10-20%).
    rounds = [(boto3_run(), browser_run(CONCURRENCY), browser_run(CONCURRENCY, digests=False))
              for _ in range(repeat)]
    plain.close()
    boto3_speed = median([b for b, _, _ in rounds])
    without_digests = median([p for _, _, p in rounds])
    speeds: dict[int, dict[str, float]] = {}
    for concurrency in (1, 2, 4, 6, 8):
        speeds[concurrency] = (median([c for _, c, _ in rounds]) if concurrency == CONCURRENCY
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
            "boto3": boto3_speed, "speeds": speeds, "without_digests": without_digests,
            "speedup": {c: {k: s[k] / single[k] for k in s} for c, s in speeds.items()}}
