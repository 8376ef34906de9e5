"""Route table of the emulated LaunchDarkly REST API (the 18 operations of the OpenAPI subset)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from airflow_provider_ld.testing._errors import ApiError

_DEST = "/api/v2/destinations"
_WAREHOUSE = _DEST + "/projects/{projKey}/environments/{envKey}"
_FS = "/api/v2/integration-capabilities/featureStore"
_FS_ONE = _FS + "/{projectKey}/{environmentKey}/{integrationKey}/{id}"


@dataclass(frozen=True)
class Route:
    """
    One API operation.

    :param method: HTTP method.
    :param pattern: OpenAPI path template.
    :param operation: OpenAPI ``operationId``.
    :param beta: whether the route requires ``LD-API-Version: beta``.
    """

    method: str
    pattern: str
    operation: str
    beta: bool = False
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern)
        object.__setattr__(self, "regex", re.compile(f"^{regex}$"))

    @property
    def key(self) -> str:
        """Rate-limit key of the route: method and pattern."""
        return f"{self.method} {self.pattern}"


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/v2/caller-identity", "getCallerIdentity"),
    Route("GET", _DEST, "getDestinations"),
    Route(
        "POST", _DEST + "/generate-warehouse-destination-key-pair", "postGenerateWarehouseDestinationKeyPair"
    ),
    Route(
        "POST",
        _WAREHOUSE + "/generate-warehouse-destination-key-pair",
        "postGenerateProjectEnvWarehouseDestinationKeyPair",
    ),
    Route("POST", _WAREHOUSE + "/generate-trust-policy", "postGenerateTrustPolicy"),
    Route("POST", _WAREHOUSE + "/kinds/{kind}/setup", "postGenerateWarehouseDestinationSetupScript"),
    Route("POST", _WAREHOUSE + "/kinds/{kind}/complete-setup", "postCompleteWarehouseDestinationSetup"),
    Route("POST", _DEST + "/{projectKey}/{environmentKey}", "postDestination"),
    Route("GET", _DEST + "/{projectKey}/{environmentKey}/{id}", "getDestination"),
    Route("PATCH", _DEST + "/{projectKey}/{environmentKey}/{id}", "patchDestination"),
    Route("DELETE", _DEST + "/{projectKey}/{environmentKey}/{id}", "deleteDestination"),
    Route("GET", _FS, "getIntegrationDeliveryConfigurations", beta=True),
    Route(
        "GET",
        _FS + "/{projectKey}/{environmentKey}",
        "getIntegrationDeliveryConfigurationByEnvironment",
        beta=True,
    ),
    Route(
        "POST",
        _FS + "/{projectKey}/{environmentKey}/{integrationKey}",
        "createIntegrationDeliveryConfiguration",
        beta=True,
    ),
    Route("GET", _FS_ONE, "getIntegrationDeliveryConfigurationById", beta=True),
    Route("PATCH", _FS_ONE, "patchIntegrationDeliveryConfiguration", beta=True),
    Route("DELETE", _FS_ONE, "deleteIntegrationDeliveryConfiguration", beta=True),
    Route("POST", _FS_ONE + "/validate", "validateIntegrationDeliveryConfiguration", beta=True),
)


@dataclass(frozen=True)
class RouteMatch:
    """
    Result of matching a request path.

    :param route: the matched route, or ``None`` when the path is known but the method is not.
    :param params: decoded path parameters.
    :param allowed: methods the path supports (for ``Allow`` on a 405).
    """

    route: Route | None
    params: dict[str, str]
    allowed: tuple[str, ...]


def match(method: str, path: str) -> RouteMatch | None:
    """
    Find the route for a request.

    :param method: request method (upper case).
    :param path: request path without query.
    :return: the match, or ``None`` for an unknown path.
    """
    allowed: list[str] = []
    for route in ROUTES:
        found = route.regex.match(path)
        if found is None:
            continue
        if route.method == method:
            params = {name: unquote(value) for name, value in found.groupdict().items()}
            return RouteMatch(route, params, (route.method,))
        allowed.append(route.method)
    if allowed:
        return RouteMatch(None, {}, tuple(allowed))
    return None


def method_not_allowed(found: RouteMatch, method: str) -> ApiError:
    """
    Build the 405 error for a known path.

    :param found: the path-only match.
    :param method: the method sent.
    """
    allow = ", ".join(found.allowed)
    return ApiError(405, f"Method {method} is not allowed on this resource", headers={"Allow": allow})
