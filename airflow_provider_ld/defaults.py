"""The connection's default values, in one place (read by the connection, the retry policy and the UI form)."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://app.launchdarkly.com"
EU_BASE_URL = "https://app.eu.launchdarkly.com"
FEDERAL_BASE_URL = "https://app.launchdarkly.us"
#: The dated API version sent in ``LD-API-Version`` unless the connection overrides it.
DEFAULT_API_VERSION = "20240415"
#: Seconds to wait for the connection and for each read.
DEFAULT_TIMEOUT = 30.0
#: Retries allowed after the first attempt of one request.
DEFAULT_MAX_RETRIES = 5
#: Total seconds one request may spend waiting between its retries.
DEFAULT_MAX_RETRY_WAIT = 120.0
