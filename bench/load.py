"""Load on the credentials endpoint: N threads, each a client with its own HTTP session
and the publisher's API token, calling s3multipart_credentials back to back for S
seconds. Prints JSON: latencies (seconds) of the successful calls and the errors.

Run in a process of its own (python -m bench.load URL TOKEN DATASET CLIENTS SECONDS),
so the clients do not compete with CKAN for the benchmark process's GIL.
"""
from __future__ import annotations

import json
import sys
import threading
import time

import requests


def main(url: str, token: str, dataset: str, clients: int, seconds: float) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + seconds

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = token
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                answer = session.post(f"{url}/api/3/action/s3multipart_credentials",
                                      json={"id": dataset, "filename": "load.bin"}, timeout=60)
                ok = answer.status_code == 200 and answer.json()["result"]["credentials"]
                error = None if ok else f"HTTP {answer.status_code}"
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                error = type(exc).__name__
            took = time.monotonic() - began
            with lock:
                (errors.append(error) if error else latencies.append(took))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    json.dump({"latencies": latencies, "errors": errors,
               "elapsed": time.monotonic() - start}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
