"""Shared pydantic base classes (the plain input checks they use live in :mod:`airflow_provider_ld.checks`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

# The plain checks live in a module without pydantic; the models and their callers share them.
from airflow_provider_ld.checks import (
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    validate_bool,
    validate_comment,
    validate_key,
    validate_name,
)
from airflow_provider_ld.models.secrets import hide_secrets


class ApiModel(BaseModel):
    """
    A response from the API, read tolerantly.

    Unknown fields are kept (``extra="allow"``) and every field is optional, so a newer API does not
    break old DAGs. Fields use Python names; the wire names are their aliases.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict in wire spelling, with every secret redacted (safe for XCom)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ConfigHoldingModel(ApiModel):
    """An API object with a free-form ``config`` whose secret fields are hidden on read."""

    @field_validator("config", mode="after", check_fields=False)
    @classmethod
    def _hide_config_secrets(cls, value: Any) -> Any:
        return hide_secrets(value)


class Link(ApiModel):
    """A ``_links`` entry: an API-relative ``href`` and its media ``type``."""

    href: str | None = None
    type: str | None = None


__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "ApiModel",
    "ConfigHoldingModel",
    "Link",
    "validate_bool",
    "validate_comment",
    "validate_key",
    "validate_name",
]
