"""Running the publisher's client in the tests: in this process (CliRunner) or in one of
its own without CKAN (to kill it), and what the tests read back."""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any

from ckan.tests.helpers import call_action
from click.testing import CliRunner

from ckanext.s3multipart.client.main import main

MiB = 1024**2
# The client in a process of its own, where importing anything from CKAN fails.
NO_CKAN = ("import sys; sys.modules['ckan'] = None; "
           "from ckanext.s3multipart.client.main import main; main(prog_name='s3multipart')")


def client(cache: pathlib.Path, *args: str, user: dict | None = None, url: str = "",
           status: int = 0) -> str:
    env = {"XDG_CACHE_HOME": str(cache), "CKAN_API_TOKEN": user["token"] if user else None}
    result = CliRunner().invoke(main, [args[0], "--ckan-url", url, *args[1:]], env=env,
                                prog_name="s3multipart")
    print(result.output)
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == status, f"exit {result.exit_code}:\n{result.output}"
    return result.output


def make_file(folder: pathlib.Path, name: str, size: int) -> pathlib.Path:
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def resources(dataset: str = "big-data") -> list[dict[str, Any]]:
    return call_action("package_show", id=dataset)["resources"]


def part_puts(proxy, upload_id: str | None = None) -> list:
    return [p for p in proxy.ok_puts() if upload_id in (None, p.upload_id)]


def start_client(cache: pathlib.Path, url: str, user: dict, *args: str) -> subprocess.Popen:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "CKAN_API_TOKEN": user["token"]}
    # A shell script's background job (`.ci/run`'s legs) starts with SIGINT ignored, and
    # Python keeps it so; a publisher's terminal delivers Ctrl-C, which is what this models.
    return subprocess.Popen([sys.executable, "-c", NO_CKAN, "upload", "--ckan-url", url, *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_parts(proxy, count: int, process: subprocess.Popen, timeout: float = 60,
                   stored: bool = True) -> None:
    """Until `count` parts are stored (or, with stored=False, have reached the proxy)."""
    deadline = time.monotonic() + timeout
    while len(part_puts(proxy) if stored else proxy.puts) < count:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the client sent no parts"
        time.sleep(0.05)


def settle(proxy, timeout: float = 30) -> None:
    """Wait for the part PUTs a killed client left in flight: the proxy still forwards
    the ones whose bytes had arrived."""
    deadline = time.monotonic() + timeout
    while any(p.status == 0 for p in proxy.puts) and time.monotonic() < deadline:
        time.sleep(0.05)
