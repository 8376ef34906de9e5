"""Data Export destinations as the API returns them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from airflow_provider_ld.models._base import ApiModel, ConfigHoldingModel, Link

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
