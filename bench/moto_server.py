"""moto's ThreadedMotoServer (S3 + STS) in a process of its own, so its work does not
share a GIL with CKAN, the load generators or boto3 in the benchmark process.

Run: python -m bench.moto_server PORT
"""
from __future__ import annotations

import logging
import signal
import sys
import threading

from moto.server import ThreadedMotoServer


def main(port: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"moto on 127.0.0.1:{port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
