"""The guided warehouse setup calls of the sync hook (a mixin of :class:`LaunchDarklyHook`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_ld.api import operations
from airflow_provider_ld.models import Destination, TrustPolicy, WarehouseKeyPair, WarehouseSetupScript

if TYPE_CHECKING:
    from airflow_provider_ld.api.calls import ApiRequest


class WarehouseSetupMixin:
    """Key pair, trust policy, setup script and completion of a warehouse destination."""

    if TYPE_CHECKING:

        def call(self, request: ApiRequest) -> Any: ...

    def generate_warehouse_key_pair(
        self, project_key: str | None = None, environment_key: str | None = None
    ) -> WarehouseKeyPair:
        """
        Have LaunchDarkly generate a Snowflake key pair (public halves only).

        :param project_key: with ``environment_key``, use the project/environment-scoped route.
        :param environment_key: see ``project_key``; without both, the account-wide route is used.
        """
        return cast(
            "WarehouseKeyPair",
            self.call(operations.generate_warehouse_key_pair(project_key, environment_key)),
        )

    def generate_trust_policy(self, project_key: str, environment_key: str) -> TrustPolicy:
        """Return the AWS trust policy that lets LaunchDarkly Data Export assume a role in your account."""
        return cast("TrustPolicy", self.call(operations.generate_trust_policy(project_key, environment_key)))

    def generate_warehouse_setup_script(
        self,
        project_key: str,
        environment_key: str,
        kind: str,
        setup: Mapping[str, Any] | None = None,
        *,
        allow_unknown_kind: bool = False,
    ) -> WarehouseSetupScript:
        """
        Start the guided warehouse setup: returns the SQL script (and keys or IAM policies) to apply.

        The API stores a pending destination that :meth:`complete_warehouse_setup` finishes.

        :param kind: ``snowflake-v2``, ``redshift`` or ``clickhouse``.
        :param setup: optional names and settings (see :class:`~airflow_provider_ld.models.WarehouseSetupRequest`).
        """
        request = operations.generate_warehouse_setup_script(
            project_key, environment_key, kind, setup, allow_unknown_kind=allow_unknown_kind
        )
        return cast("WarehouseSetupScript", self.call(request))

    def complete_warehouse_setup(
        self,
        project_key: str,
        environment_key: str,
        kind: str,
        public_key: str | None = None,
        *,
        allow_unknown_kind: bool = False,
    ) -> Destination:
        """
        Finish a pending warehouse setup, after the script ran in the warehouse.

        :param kind: the warehouse kind the setup was started for.
        :param public_key: the ``publicKey`` the setup call returned (required for ``snowflake-v2``).
        :return: the completed destination.
        """
        request = operations.complete_warehouse_setup(
            project_key, environment_key, kind, public_key, allow_unknown_kind=allow_unknown_kind
        )
        return cast("Destination", self.call(request))


__all__ = ["WarehouseSetupMixin"]
