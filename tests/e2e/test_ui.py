"""
The provider in the Airflow UI, seen by a (headless) person: the connection form and the extra link.

Screenshots go to the test's temporary directory; the path is printed. Skipped only when no Chromium is
installed (``scripts/install-browser.sh`` installs it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.airflow_compat import AIRFLOW_V_3_1_7_PLUS, AIRFLOW_V_3_2_PLUS
from tests.e2e.browser import Chromium, find_chromium
from tests.e2e.conftest import TOKEN
from tests.e2e.deployment import AirflowDeployment

#: The first test also starts the deployment (about 2 min on a loaded 2-core machine).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

CHROMIUM = find_chromium()
DIALOG = "document.querySelector('[role=dialog]')"
CONN_ID = "launchdarkly_from_the_form"
#: The timeout typed into the form, as stored. Airflow 3.0 and 3.1 build the extra fields from the hook's
#: WTForms widgets, where a number that may have a fraction is a text field; the hook reads either.
EDITED_TIMEOUT = 20 if AIRFLOW_V_3_2_PLUS else "20"


def button(text: str) -> str:
    """JavaScript for the button whose text is ``text``."""
    return f"[...document.querySelectorAll('button')].find(b => b.innerText.trim() === {json.dumps(text)})"


def dialog_input(name: str) -> str:
    """JavaScript for the form input named ``name``."""
    return f"{DIALOG}.querySelector('input[name={json.dumps(name)}]')"


def extra_json_matches(pattern: str) -> str:
    """JavaScript: whether the Extra Fields JSON editor's text matches the regular expression ``pattern``."""
    # The JSON editor's lines where the UI's editor is Monaco; the dialog's text otherwise (Airflow 3.0).
    editor = f"({DIALOG}.querySelector('.view-lines') ?? {DIALOG})"
    return f"new RegExp({json.dumps(pattern)}).test({editor}.innerText)"


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (scripts/install-browser.sh installs it)"
)
def test_a_person_can_add_a_launchdarkly_connection_in_the_ui(
    airflow: AirflowDeployment, emulator, tmp_path: Path
):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with Chromium(str(CHROMIUM), tmp_path / "chromium-profile", width=1280, height=1000) as browser:
        browser.navigate(f"{airflow.base_url}/connections")
        browser.click(button("Add Connection"), what="the Add Connection button")
        browser.click(dialog_input("connection_id"), what="the Add Connection dialog")
        browser.type_text(CONN_ID)
        browser.click(f"{DIALOG}.querySelector('[role=combobox]')", what="the connection type select")
        browser.type_text("LaunchDark")
        browser.click(
            "[...document.querySelectorAll('[role=option]')].find(o => o.innerText.trim() === 'LaunchDarkly')",
            what="LaunchDarkly among the connection types",
        )
        # The standard fields, relabelled; login, port and schema hidden.
        browser.wait_for(f"{DIALOG}.innerText.includes('API access token')", what="the LaunchDarkly fields")
        labels = browser.evaluate(f"[...{DIALOG}.querySelectorAll('label')].map(l => l.innerText.trim())")
        assert {"Base URL", "API access token"} <= set(labels), labels
        assert not {"Login", "Port", "Schema", "Host", "Password"} & set(labels), labels
        placeholder = browser.evaluate(f"{dialog_input('host')}.placeholder")
        assert placeholder.startswith("https://app.launchdarkly.com"), placeholder
        empty = browser.screenshot(shots / "connection-form-empty.png")
        browser.click(dialog_input("host"), what="Base URL")
        browser.type_text(emulator.base_url)
        browser.click(dialog_input("password"), what="API access token")
        browser.type_text(TOKEN)
        assert browser.evaluate(f"{dialog_input('password')}.type") == "password", "the token is not shown"
        standard = browser.screenshot(shots / "connection-form-standard-fields.png")

        # The form fills the extras with the provider's defaults (shown in the JSON view) ...
        browser.click(button("Extra Fields JSON"), what="the Extra Fields JSON section")
        browser.wait_for(
            extra_json_matches(
                r'"api_version":\s*"20240415"[^]*"timeout":\s*30\b[^]*"max_retry_wait":\s*120\b'
            ),
            what="the default extras in the JSON view",
        )
        # ... and shows them as labelled fields with help texts.
        browser.click(button("Extra Fields"), what="the Extra Fields section")
        browser.wait_for(f"{DIALOG}.innerText.includes('Retry budget (seconds)')", what="the extra fields")
        text = browser.evaluate(f"{DIALOG}.innerText")
        for expected in (
            "API version",
            "Value of the LD-API-Version header; beta calls always send 'beta'.",
            "Request timeout (seconds)",
            "Retries per request",
            "Retry budget (seconds)",
            "Upper bound on the total time spent waiting between retries of one request.",
        ):
            assert expected in text, (expected, text)
        values = browser.evaluate(
            f"Object.fromEntries([...{DIALOG}.querySelectorAll('input[name^=element_]')]"
            ".map(i => [i.name, i.value]))"
        )
        assert values == {
            "element_api_version": "20240415",
            "element_timeout": "30",
            "element_max_retries": "5",
            "element_max_retry_wait": "120",
        }, values
        browser.click(dialog_input("element_timeout"), what="Request timeout")
        browser.evaluate("document.execCommand('selectAll')")
        browser.type_text("20")
        extra = browser.screenshot(shots / "connection-form-extra-fields.png")
        browser.click(button("Extra Fields JSON"), what="the Extra Fields JSON section")
        browser.wait_for(
            extra_json_matches(r'"timeout":\s*' + json.dumps(EDITED_TIMEOUT) + "(?![0-9])"),
            what="the edited timeout in the JSON view",
        )

        browser.click(button("Save"), what="Save")
        browser.wait_for(f"!{DIALOG}", what="the dialog to close after saving", timeout=30)
        browser.wait_for(
            f"document.body.innerText.includes({json.dumps(CONN_ID)})", what="the new connection"
        )
        listed = browser.screenshot(shots / "connection-list.png")
    print(f"\nScreenshots: {', '.join(str(p) for p in (empty, standard, extra, listed))}")

    stored = airflow.api("GET", f"/connections/{CONN_ID}")
    assert (stored["conn_type"], stored["host"]) == ("launchdarkly", emulator.base_url)
    assert json.loads(stored["extra"]) == {
        "api_version": "20240415",
        "timeout": EDITED_TIMEOUT,
        "max_retries": 5,
        "max_retry_wait": 120,
    }, stored["extra"]
    # What was saved through the form works: the API server tests it with the stored token (before
    # Airflow 3.1.7 it tests only what the request carries, so the token is sent again there).
    retyped = {} if AIRFLOW_V_3_1_7_PLUS else {"password": TOKEN}
    result = airflow.api(
        "POST",
        "/connections/test",
        json={"connection_id": CONN_ID, "conn_type": "launchdarkly", "host": emulator.base_url, **retyped},
    )
    assert result["status"] is True, result
    airflow.api("DELETE", f"/connections/{CONN_ID}", expect=204)
