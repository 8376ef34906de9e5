"""
Drive headless Chromium over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

No browser-automation package is needed: Chromium reads JSON commands, each ended by a NUL byte,
from file descriptor 3 and writes answers and events to descriptor 4.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Self

from tests.e2e.deployment import die_with_parent

#: Puts the two pipe ends on the descriptors Chromium expects (3: commands in, 4: answers out), then execs.
#: Both are first copied above 10, so neither can be overwritten by the other's move.
WIRE_PIPES = """
import fcntl, os, sys
commands, answers = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])
os.dup2(commands, 3)
os.dup2(answers, 4)
os.execv(sys.argv[3], sys.argv[3:])
"""

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def find_chromium() -> str | None:
    """The Chromium executable on ``PATH``, or ``None``."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(AssertionError):
    """The browser died, answered with an error, or a page never reached the awaited state."""


class Chromium:
    """
    One headless Chromium with one page, controlled through the DevTools protocol.

    :param executable: the Chromium binary.
    :param user_data_dir: a fresh, empty profile directory.
    :param width: viewport width in CSS pixels.
    :param height: viewport height in CSS pixels.
    """

    def __init__(
        self, executable: str, user_data_dir: Path, *, width: int = 1280, height: int = 1000
    ) -> None:
        self._commands_read, self._commands_write = os.pipe()
        self._events_read, self._events_write = os.pipe()
        user_data_dir.mkdir(parents=True, exist_ok=True)
        self._stderr = (user_data_dir / "chromium-stderr.log").open("wb")
        chromium = [
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={user_data_dir}",
            f"--window-size={width},{height}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        wire = [
            sys.executable,
            "-c",
            WIRE_PIPES,
            str(self._commands_read),
            str(self._events_write),
            *chromium,
        ]
        self.process = subprocess.Popen(
            die_with_parent(wire),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            pass_fds=(self._commands_read, self._events_write),
            start_new_session=True,
        )
        os.close(self._commands_read)
        os.close(self._events_write)
        self._buffer = b""
        self._next_id = 0
        self.session_id: str | None = None
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session_id = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)[
            "sessionId"
        ]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def close(self) -> None:
        """Ask the browser to quit; kill it if it does not within a few seconds."""
        with contextlib.suppress(Exception):
            self.session_id = None
            self.send("Browser.close", timeout=5)
        with contextlib.suppress(OSError):
            os.close(self._commands_write)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)  # the process group this object created
            self.process.wait(timeout=10)
        with contextlib.suppress(OSError):
            os.close(self._events_read)
        self._stderr.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Protocol

    def send(self, method: str, *, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session_id is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session_id
        os.write(self._commands_write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline, method)
            if answer.get("id") != self._next_id:
                continue  # an event
            if "error" in answer:
                raise BrowserError(f"{method} failed: {answer['error']}")
            return answer.get("result", {})

    def _read_message(self, deadline: float, method: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no answer to {method} in time")
            ready, _, _ = select.select([self._events_read], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._events_read, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed the pipe (exit code {self.process.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    # Page helpers

    def navigate(self, url: str) -> None:
        """Open ``url`` in the page."""
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        self.wait_for("document.readyState === 'complete' && document.body", what=f"{url} to load")

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its (JSON) value; awaits promises."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, what: str, timeout: float = 30.0) -> Any:
        """Evaluate ``expression`` until it is truthy; return its value (``True`` for a DOM node)."""
        deadline = time.monotonic() + timeout
        # A script error (e.g. the element is not rendered yet) counts as "not yet".
        wrapped = (
            f"(() => {{ try {{ const v = ({expression}); return v instanceof Node ? true : v; }}"
            " catch (e) { return null; } })()"
        )
        while time.monotonic() < deadline:
            value = self.evaluate(wrapped)
            if value:
                return value
            time.sleep(0.25)
        text = self.evaluate("document.body ? document.body.innerText.slice(0, 2000) : ''")
        raise BrowserError(f"timed out after {timeout:.0f} s waiting for {what}; page text:\n{text}")

    def click(self, element: str, *, what: str, timeout: float = 30.0) -> None:
        """
        Click the middle of an element with the mouse, as a person would.

        :param element: a JavaScript expression for the element (waited for, then scrolled into view).
        """
        self.wait_for(element, what=what, timeout=timeout)
        centre = (
            f"(() => {{ const e = ({element}); e.scrollIntoView({{block: 'center'}});"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        # Wait for the element to stop moving (dialogs and accordions animate), then click its centre.
        deadline = time.monotonic() + timeout
        box = self.evaluate(centre)
        while time.monotonic() < deadline:
            time.sleep(0.2)
            settled = self.evaluate(centre)
            if settled == box:
                break
            box = settled
        for event in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=event, x=box[0], y=box[1], button="left", clickCount=1)

    def type_text(self, text: str) -> None:
        """Type into the focused element, as a keyboard would."""
        self.send("Input.insertText", text=text)

    def press(self, key: str, code: str, key_code: int) -> None:
        """Press and release one key (e.g. ``"Enter", "Enter", 13``)."""
        for event in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=event,
                key=key,
                code=code,
                windowsVirtualKeyCode=key_code,
                nativeVirtualKeyCode=key_code,
            )

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the whole page."""
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path
