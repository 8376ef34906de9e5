"""
The beta integration delivery configuration calls of the sync hook (a mixin of :class:`LaunchDarklyHook`).

Every call here sends ``LD-API-Version: beta`` (the request builders in :mod:`airflow_provider_ld.api.operations`
set it); beta resources may change without notice, so they are kept apart from the stable destination calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_ld.api import operations
from airflow_provider_ld.models import DeliveryValidationResult, IntegrationDeliveryConfiguration

if TYPE_CHECKING:
    from airflow_provider_ld.api.calls import ApiRequest


class DeliveryConfigurationsMixin:
    """List, create, read, patch, delete and validate delivery configurations (beta)."""

    if TYPE_CHECKING:

        def call(self, request: ApiRequest) -> Any: ...

    def list_delivery_configurations(
        self, project_key: str | None = None, environment_key: str | None = None
    ) -> list[IntegrationDeliveryConfiguration]:
        """List delivery configurations: all, or with both keys those of one environment (beta)."""
        listing = self.call(operations.list_delivery_configurations(project_key, environment_key))
        return cast("list[IntegrationDeliveryConfiguration]", listing.items)

    def create_delivery_configuration(
        self,
        project_key: str,
        environment_key: str,
        integration_key: str,
        *,
        config: Mapping[str, Any],
        on: bool = False,
        name: str | None = None,
        tags: list[str] | None = None,
        allow_unknown_integration: bool = False,
    ) -> IntegrationDeliveryConfiguration:
        """
        Create a delivery configuration for a feature-store integration (beta).

        :param integration_key: e.g. ``cloudflare``, ``fastly``, ``vercel``.
        :param config: the integration's form variables, in wire spelling.
        """
        request = operations.create_delivery_configuration(
            project_key,
            environment_key,
            integration_key,
            config=config,
            on=on,
            name=name,
            tags=tags,
            allow_unknown_integration=allow_unknown_integration,
        )
        return cast("IntegrationDeliveryConfiguration", self.call(request))

    def get_delivery_configuration(
        self, project_key: str, environment_key: str, integration_key: str, configuration_id: str
    ) -> IntegrationDeliveryConfiguration:
        """Return one delivery configuration, with its (obfuscated) config (beta)."""
        request = operations.get_delivery_configuration(
            project_key, environment_key, integration_key, configuration_id
        )
        return cast("IntegrationDeliveryConfiguration", self.call(request))

    def patch_delivery_configuration(
        self,
        project_key: str,
        environment_key: str,
        integration_key: str,
        configuration_id: str,
        patch: list[dict[str, Any]],
    ) -> IntegrationDeliveryConfiguration:
        """Apply a JSON Patch to a delivery configuration (beta)."""
        request = operations.patch_delivery_configuration(
            project_key, environment_key, integration_key, configuration_id, patch
        )
        return cast("IntegrationDeliveryConfiguration", self.call(request))

    def delete_delivery_configuration(
        self, project_key: str, environment_key: str, integration_key: str, configuration_id: str
    ) -> None:
        """Delete a delivery configuration (beta)."""
        request = operations.delete_delivery_configuration(
            project_key, environment_key, integration_key, configuration_id
        )
        self.call(request)

    def validate_delivery_configuration(
        self, project_key: str, environment_key: str, integration_key: str, configuration_id: str
    ) -> DeliveryValidationResult:
        """Ask LaunchDarkly to test a delivery configuration against its integration (beta)."""
        request = operations.validate_delivery_configuration(
            project_key, environment_key, integration_key, configuration_id
        )
        return cast("DeliveryValidationResult", self.call(request))


__all__ = ["DeliveryConfigurationsMixin"]
