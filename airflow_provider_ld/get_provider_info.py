"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_ld import __version__
from airflow_provider_ld.defaults import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_TIMEOUT,
)

CONNECTION_TYPE = "launchdarkly"
HOOK_CLASS = "airflow_provider_ld.hooks.launchdarkly.LaunchDarklyHook"
INTEGRATION = "LaunchDarkly"

#: Extra fields of the ``launchdarkly`` connection form (stored in the connection's ``extra``).
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "api_version": {
        "label": "API version",
        "schema": {"type": ["string", "null"], "default": DEFAULT_API_VERSION},
        "description": "Value of the LD-API-Version header; beta calls always send 'beta'.",
    },
    "timeout": {
        "label": "Request timeout (seconds)",
        "schema": {"type": ["number", "null"], "default": DEFAULT_TIMEOUT, "exclusiveMinimum": 0},
    },
    "max_retries": {
        "label": "Retries per request",
        "schema": {"type": ["integer", "null"], "default": DEFAULT_MAX_RETRIES, "minimum": 0},
    },
    "max_retry_wait": {
        "label": "Retry budget (seconds)",
        "schema": {"type": ["number", "null"], "default": DEFAULT_MAX_RETRY_WAIT, "minimum": 0},
        "description": "Upper bound on the total time spent waiting between retries of one request.",
    },
}

#: How the standard connection form fields are shown for the ``launchdarkly`` type.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "login", "extra"],
    "relabeling": {"host": "Base URL", "password": "API access token"},
    "placeholders": {
        "host": "https://app.launchdarkly.com (EU: https://app.eu.launchdarkly.com, "
        "federal: https://app.launchdarkly.us)",
        "password": "api-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata in the shape Airflow's providers manager expects."""
    return {
        "package-name": "airflow-provider-launchdarkly",
        "name": "LaunchDarkly",
        "description": "Manage LaunchDarkly Data Export destinations from Airflow DAGs.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://launchdarkly.com/docs/api/data-export-destinations",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_provider_ld.operators.destinations",
                    "airflow_provider_ld.operators.fleet",
                    "airflow_provider_ld.operators.warehouse",
                ],
            }
        ],
        "sensors": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_provider_ld.sensors.destinations"]}
        ],
        "triggers": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_provider_ld.triggers.destinations"]}
        ],
        "hooks": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_provider_ld.hooks.launchdarkly",
                    "airflow_provider_ld.hooks.launchdarkly_async",
                ],
            }
        ],
        "extra-links": ["airflow_provider_ld.links.LaunchDarklyDestinationLink"],
        "connection-types": [
            {
                "hook-class-name": HOOK_CLASS,
                "hook-name": "LaunchDarkly",
                "connection-type": CONNECTION_TYPE,
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
