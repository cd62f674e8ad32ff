"""Fixtures of the UI area: one headless Debian chromium for the whole session (Selenium through the system
chromedriver; no browser is downloaded), and ``tide ui`` servers started as subprocesses on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCREENSHOTS = Path(os.environ.get("TIDE_UI_SCREENSHOTS") or ROOT / ".ui-screenshots")  # git-ignored


def _exe(*names: str) -> str:
    for n in names:
        found = shutil.which(n) or (f"/usr/bin/{n}" if os.path.exists(f"/usr/bin/{n}") else None)
        if found:
            return found
    pytest.fail(f"{names[0]} is not installed: run 'make sysdeps' (scripts/sysdeps.sh installs chromium and "
                "chromium-driver); UI tests never skip")


@pytest.fixture(scope="session")
def browser():
    """A headless chromium whose console and network events the tests read (goog:loggingPrefs)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: it is in tide's [test] extra (make venv)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = _exe("chromium", "chromium-browser")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
              "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-default-apps", "--disable-extensions",
              "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(_exe("chromedriver")))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class UiServer:
    def __init__(self, cwd: Path) -> None:
        env = dict(os.environ)
        self.proc = subprocess.Popen([sys.executable, "-m", "tide", "ui", "--port", "0"], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("tide ui: http://127.0.0.1:"):
            self.stop()
            pytest.fail(f"tide ui did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.split()[2]

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stderr.read() if self.proc.stderr else ""


@pytest.fixture
def ui_server():
    servers: list[UiServer] = []

    def start(cwd: Path) -> UiServer:
        s = UiServer(cwd)
        servers.append(s)
        return s

    yield start
    for s in servers:
        err = s.stop()
        assert "Traceback" not in err, err


def visit(driver, base: str, page: str, shot: str) -> None:
    """Load one page, wait until app.js says it is rendered, write its screenshot, and fail on a console
    error, a page error or a request to anything but the UI's own origin (or a data: URL)."""
    driver.get_log("browser")
    driver.get_log("performance")  # drop what earlier pages logged
    driver.get(base + page)
    settle(driver)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{shot}.png"))
    check_clean(driver, base, f"{shot} ({page or '/'})")


def settle(driver, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if driver.execute_script("return document.body && document.body.getAttribute('data-ready') === '1' "
                                 "&& !document.querySelector('main .muted.loading')"):
            time.sleep(0.2)  # charts finish drawing after the promise of vegaEmbed
            return
        time.sleep(0.05)
    raise AssertionError(f"page did not finish rendering: {driver.current_url}")


def check_clean(driver, base: str, what: str) -> None:
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{what}: console errors: {errors}"
    assert not driver.find_elements("id", "page-error"), f"{what}: {driver.find_element('id', 'page-error').text}"
    foreign = []
    for e in driver.get_log("performance"):
        msg = json.loads(e["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if not (url.startswith(base) or url.startswith("data:")):
                foreign.append(url)
    assert not foreign, f"{what}: requests to another host: {foreign}"
