"""Data Export destinations as the API returns them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models._base import (
    ApiModel,
    ConfigHoldingModel,
    Link,
    validate_bool,
    validate_comment,
    validate_key,
    validate_name,
)
from airflow_provider_ld.models.configs import DestinationConfig

_DESTINATION_PATH = "/api/v2/destinations/"


class CompletedArtifacts(ApiModel):
    """What a completed Redshift setup left behind: the SQL script and the staging bucket."""

    sql_setup_script: str | None = Field(default=None, alias="sqlSetupScript")
    s3_bucket_name: str | None = Field(default=None, alias="s3BucketName")


class Destination(ConfigHoldingModel):
    """
    A Data Export destination.

    ``config`` is free-form (its keys depend on ``kind``); secret fields in it are ``SecretStr`` and show
    as ``**********`` in reprs and in :meth:`to_dict`. ``kind`` is a plain string so kinds added to the
    API later still parse.
    """

    id: str = Field(alias="_id")
    links: dict[str, Link] = Field(default_factory=dict, alias="_links")
    name: str | None = None
    kind: str | None = None
    version: int | float | None = None
    config: dict[str, Any] | None = None
    on: bool = False
    access: dict[str, Any] | None = Field(default=None, alias="_access")
    created_at: int | None = Field(default=None, alias="createdAt")
    maintainer_id: str | None = Field(default=None, alias="maintainerId")
    completed_artifacts: CompletedArtifacts | None = Field(default=None, alias="completedArtifacts")

    @property
    def project_key(self) -> str | None:
        """Project key, read from the ``self`` link (the API has no field for it)."""
        return self._self_path_part(0)

    @property
    def environment_key(self) -> str | None:
        """Environment key, read from the ``self`` link (the API has no field for it)."""
        return self._self_path_part(1)

    def _self_path_part(self, index: int) -> str | None:
        link = self.links.get("self")
        if not link or not link.href or _DESTINATION_PATH not in link.href:
            return None
        parts = link.href.split(_DESTINATION_PATH, 1)[1].split("/")
        return parts[index] if len(parts) == 3 else None


class DestinationList(ApiModel):
    """The ``GET /api/v2/destinations`` collection: every destination in the account, unpaginated."""

    links: dict[str, Link] = Field(default_factory=dict, alias="_links")
    items: list[Destination] = Field(default_factory=list)


def check_scope(project_key: str | None, environment_key: str | None) -> None:
    """
    Check the optional project and environment keys of a listing filter.

    An environment key names an environment only within a project, so it needs ``project_key``.
    """
    if project_key is not None:
        validate_key("project_key", project_key)
    if environment_key is not None:
        validate_key("environment_key", environment_key)
        if project_key is None:
            raise LaunchDarklyValidationError(
                "project_key: required with environment_key (environment keys are unique only within a "
                "project)",
                field="project_key",
            )


def check_update_arguments(
    *, name: Any = None, on: Any = None, config: Any = None, comment: Any = None
) -> None:
    """
    Check the desired values of an update that can be checked without knowing the destination's kind.

    :param name: new name, or ``None`` to keep it.
    :param on: desired export state, or ``None`` to keep it.
    :param config: desired config (an object; its fields are checked once the kind is known), or ``None``.
    :param comment: audit-log comment, or ``None``.
    :raises LaunchDarklyValidationError: naming the field.
    """
    validate_name("name", name, required=name is not None)
    if on is not None:
        validate_bool("on", on)
    if config is not None and not isinstance(config, (Mapping, DestinationConfig)):
        raise LaunchDarklyValidationError(
            f"config: must be an object (dict) of the kind's settings, got {type(config).__name__}",
            field="config",
        )
    validate_comment(comment)


def filter_destinations(
    items: list[Destination],
    *,
    project_key: str | None = None,
    environment_key: str | None = None,
    name: str | None = None,
    kind: str | None = None,
) -> list[Destination]:
    """
    Keep the destinations that match every given criterion (``None`` matches anything).

    :param items: destinations, e.g. the account-wide listing.
    :param project_key: project key, read from each destination's ``self`` link.
    :param environment_key: environment key, read from each destination's ``self`` link.
    :param name: exact name.
    :param kind: kind.
    """
    wanted = {"project_key": project_key, "environment_key": environment_key, "name": name, "kind": kind}
    return [
        item
        for item in items
        if all(value is None or getattr(item, field) == value for field, value in wanted.items())
    ]
