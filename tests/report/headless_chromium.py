"""Load a page in Debian's headless Chromium and report what a person would see.

A minimal client of the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (JSON
messages separated by NUL bytes on file descriptors 3 and 4: no websocket, no port, no
package). For each page it records the console errors, uncaught exceptions and error log
entries, every URL the page requested besides itself and ``data:`` URLs, the value of a probe
script evaluated after the load event, and a PNG screenshot of the whole page.

Used by ``tests/report/test_page.py``; also runnable by hand:

    .venv/bin/python tests/report/headless_chromium.py page.html shot.png
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
         "--mute-audio", "--remote-debugging-pipe")


def find_chromium() -> str | None:
    """The path of a Chromium executable on PATH, or None."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


_TRAMPOLINE = """
import os, sys
os.dup2(int(sys.argv[1]), 3)
os.dup2(int(sys.argv[2]), 4)
os.closerange(5, 1 << 16)
os.execv(sys.argv[3], sys.argv[3:])
"""


class BrowserError(RuntimeError):
    """Chromium could not be started, or did not answer in time."""


@dataclass
class PageLoad:
    """What happened when one page was loaded."""

    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    probe: Any = None
    screenshot_png: bytes = b""
    seconds: float = 0.0


class Chromium:
    """One headless Chromium process; :meth:`load` opens each page in a fresh tab.

    Use as a context manager: the browser (and its process group) is closed on exit.
    """

    def __init__(self, executable: str | None = None, *, timeout: float = 20.0) -> None:
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise BrowserError("no Chromium on PATH: apt-get install -y chromium")
        self.timeout = timeout
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        self._profile = tempfile.TemporaryDirectory(prefix="genverify-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the child's ends move above 9, out of the way of fds 3 and 4
        to_browser_r, from_browser_w = _above_9(to_browser_r), _above_9(from_browser_w)
        # the browser reads commands on fd 3 and writes answers on fd 4: a Python trampoline
        # puts the pipe ends there (dash's redirections only reach fds 0-9) and execs it
        self._process = subprocess.Popen(
            [sys.executable, "-c", _TRAMPOLINE, str(to_browser_r), str(from_browser_w),
             self.executable, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            self.send("Browser.getVersion")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._process.poll() is None:
                try:
                    self._write({"id": self._new_id(), "method": "Browser.close"})
                    self._process.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        finally:
            if self._process.poll() is None:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._profile.cleanup()

    # -- the protocol ---------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _write(self, message: dict[str, Any]) -> None:
        os.write(self._to_browser, json.dumps(message).encode("utf-8") + b"\0")

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise BrowserError(f"Chromium exited (status {self._process.poll()})")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        ident = self._new_id()
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._write(message)
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def _wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e["method"] == method and e.get("sessionId") == session
                      for e in self._events):
            self._events.append(self._read(deadline))

    # -- pages ----------------------------------------------------------------------------------

    def load(self, path_or_url: str | Path, *, probe: str | None = None, width: int = 1200,
             height: int = 2000, full_page: bool = True) -> PageLoad:
        """Open a page, wait for its load event, run ``probe`` (a JS expression whose value
        is JSON), and take a screenshot ``width`` px wide (the whole page if ``full_page``)."""
        url = path_or_url.resolve().as_uri() if isinstance(path_or_url, Path) else path_or_url
        start = time.monotonic()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        self._events.clear()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": False}, session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self._wait_for("Page.loadEventFired", session)
        result = PageLoad(url)
        if probe is not None:
            evaluated = self.send("Runtime.evaluate", {"expression": probe,
                                                       "returnByValue": True,
                                                       "awaitPromise": True}, session=session)
            if "exceptionDetails" in evaluated:
                raise BrowserError(f"probe failed: {evaluated['exceptionDetails']}")
            result.probe = evaluated["result"].get("value")
        shot: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
            shot.update(captureBeyondViewport=True,
                        clip={"x": 0, "y": 0, "width": width,
                              "height": max(height, int(size["height"])), "scale": 1})
        result.screenshot_png = base64.b64decode(
            self.send("Page.captureScreenshot", shot, session=session)["data"])
        self.send("Target.closeTarget", {"targetId": target})
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            result.errors.extend(_error_text(event))
            if event["method"] == "Network.requestWillBeSent":
                requested = event["params"]["request"]["url"]
                if requested != url and not requested.startswith("data:"):
                    result.requests.append(requested)
        result.seconds = time.monotonic() - start
        return result


def _above_9(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


def _error_text(event: dict[str, Any]) -> list[str]:
    """The console errors, uncaught exceptions and error log entries of one event."""
    method, params = event["method"], event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        description = details.get("exception", {}).get("description") or details.get("text")
        return [f"uncaught: {description}"]
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        return ["console.error: " + " ".join(str(a.get("value", a.get("description", "")))
                                             for a in params.get("args", []))]
    if method == "Log.entryAdded" and params["entry"]["level"] == "error":
        entry = params["entry"]
        return [f"log ({entry.get('source')}): {entry['text']} {entry.get('url', '')}".strip()]
    if method == "Network.loadingFailed":
        return [f"failed to load: {params.get('errorText')}"]
    return []


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    with Chromium() as browser:
        page = browser.load(Path(argv[0]))
    Path(argv[1]).write_bytes(page.screenshot_png)
    print(f"{page.url}: {len(page.errors)} errors, {len(page.requests)} requests, "
          f"{page.seconds:.2f} s; screenshot in {argv[1]}")
    for line in page.errors + page.requests:
        print("  " + line)
    return 1 if page.errors or page.requests else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
