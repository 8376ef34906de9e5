"""
The destinations manifest: which destinations each (project, environment) should have, checked before any request.

A manifest is YAML (or the same structure as a dict)::

    destinations:
      - name: Product events
        kind: google-pubsub
        on: true
        config: {project: gcp-analytics, topic: ld-events}
        targets:
          - project: web
            environments: [production, staging]

Secret values are never written in it: a config value may be ``{from_env: NAME}`` or
``{from_variable: NAME}``, resolved only when a plan is made or applied.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models._base import validate_key, validate_name
from airflow_provider_ld.models.configs import KNOWN_KINDS, validate_destination_config, validate_kind

if TYPE_CHECKING:
    import yaml
    from pydantic.config import JsonDict

_Value = TypeVar("_Value")

#: Where the published JSON Schema of the manifest lives (regenerate with ``ld-destinations schema``).
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
#: What a secret reference is replaced by while a config is checked without resolving it.
_PLACEHOLDER = "placeholder-for-validation"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


#: A config value: plain JSON, or a secret reference resolved when the plan is made.
_CONFIG_SCHEMA: JsonDict = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [
            {
                "type": "object",
                "title": "FromEnv",
                "properties": {"from_env": {"type": "string", "minLength": 1}},
                "required": ["from_env"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "title": "FromVariable",
                "properties": {"from_variable": {"type": "string", "minLength": 1}},
                "required": ["from_variable"],
                "additionalProperties": False,
            },
            {
                "not": {
                    "type": "object",
                    "anyOf": [{"required": ["from_env"]}, {"required": ["from_variable"]}],
                }
            },
        ],
    },
}


class Target(_Strict):
    """A project and the environments of it that get the destination."""

    project: str = Field(description="Project key.")
    environments: list[str] = Field(min_length=1, description="Environment keys of the project.")
    config: dict[str, Any] | None = Field(
        default=None,
        description="Fields merged over the destination's config for this target.",
        json_schema_extra=_CONFIG_SCHEMA,
    )

    @field_validator("project")
    @classmethod
    def _project_is_key(cls, value: str) -> str:
        return _as_value_error(validate_key, "project", value)

    @field_validator("environments")
    @classmethod
    def _environments_are_keys(cls, value: list[str]) -> list[str]:
        for environment in value:
            _as_value_error(validate_key, "environment", environment)
        if len(set(value)) != len(value):
            raise ValueError("lists an environment twice")
        return value


class DestinationSpec(_Strict):
    """One destination, wanted in every environment its targets name."""

    name: str = Field(
        min_length=1, description="Destination name; with kind, identifies it in an environment."
    )
    kind: str = Field(description="Destination kind.", json_schema_extra={"enum": list(KNOWN_KINDS)})
    on: bool = Field(default=False, description="Whether export is on.")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="The kind's settings; secrets as {from_env: NAME} or {from_variable: NAME}.",
        json_schema_extra=_CONFIG_SCHEMA,
    )
    targets: list[Target] = Field(min_length=1, description="Where the destination is wanted.")

    @field_validator("name")
    @classmethod
    def _name_is_valid(cls, value: str) -> str:
        return _as_value_error(lambda field, item: validate_name(field, item, required=True), "name", value)

    @field_validator("kind")
    @classmethod
    def _kind_is_known(cls, value: str) -> str:
        return _as_value_error(lambda field, item: validate_kind(item, allowed=KNOWN_KINDS), "kind", value)


class Manifest(_Strict):
    """The destinations a LaunchDarkly account should have."""

    model_config = ConfigDict(extra="forbid", title="LaunchDarkly destinations manifest")

    destinations: list[DestinationSpec] = Field(default_factory=list)


def _as_value_error(check: Callable[[str, _Value], object], field: str, value: _Value) -> _Value:
    """Run one of the provider's checks, turning its error into the ``ValueError`` pydantic expects."""
    try:
        check(field, value)
    except LaunchDarklyValidationError as err:
        raise ValueError(err.message.split(": ", 1)[-1].split(" (pass allow_unknown_kind", 1)[0]) from None
    return value


@dataclass(frozen=True)
class ManifestEntry:
    """
    One destination wanted in one environment.

    :param project_key: the project key.
    :param environment_key: the environment key.
    :param kind: the destination kind.
    :param name: the destination name.
    :param on: whether export is on.
    :param config: the merged config, secret references unresolved.
    :param place: where it comes from in the manifest, e.g. ``destinations[2].targets[0]``.
    """

    project_key: str
    environment_key: str
    kind: str
    name: str
    on: bool
    config: dict[str, Any]
    place: str

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What identifies the destination: (project, environment, kind, name)."""
        return (self.project_key, self.environment_key, self.kind, self.name)


@dataclass(frozen=True)
class LoadedManifest:
    """A checked manifest and the destinations it wants, one entry per environment."""

    manifest: Manifest
    entries: tuple[ManifestEntry, ...]

    @property
    def scope(self) -> frozenset[tuple[str, str]]:
        """The (project, environment) pairs the manifest manages; only these may be pruned."""
        return frozenset((entry.project_key, entry.environment_key) for entry in self.entries)


def load_manifest(source: str | os.PathLike[str] | Mapping[str, Any]) -> LoadedManifest:
    """
    Read and check a manifest, before any request.

    :param source: a path to a YAML (or JSON) file, or the manifest as a dict.
    :raises LaunchDarklyValidationError: naming the place, e.g. ``destinations[2].targets[0].project: ...``.
    """
    data = read_manifest_file(source) if isinstance(source, (str, os.PathLike)) else source
    if not isinstance(data, Mapping):
        raise LaunchDarklyValidationError(
            f"manifest: must be an object with a 'destinations' list, got {type(data).__name__}",
            field="manifest",
        )
    try:
        manifest = Manifest.model_validate(dict(data))
    except ValidationError as err:
        raise _manifest_error(err) from None
    return LoadedManifest(manifest, tuple(_entries(manifest)))


def read_manifest_file(path: str | os.PathLike[str]) -> Any:
    """Parse a manifest file (YAML 1.2 booleans: ``on`` is a key, not ``True``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise LaunchDarklyValidationError(
            f"manifest: cannot read {str(path)!r}: {err.strerror}", field="manifest"
        ) from None
    import yaml

    try:
        return yaml.load(text, Loader=_loader())
    except yaml.YAMLError as err:
        raise LaunchDarklyValidationError(
            f"manifest: {path} is not valid YAML: {err}", field="manifest"
        ) from None


def _loader() -> type[yaml.SafeLoader]:
    """A SafeLoader where only ``true``/``false`` are booleans (``on``, ``yes``, ``no`` stay strings)."""
    import re

    import yaml

    class ManifestLoader(yaml.SafeLoader):
        pass

    ManifestLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    ManifestLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return ManifestLoader


def _manifest_error(err: ValidationError) -> LaunchDarklyValidationError:
    """Name the first error's place in the manifest, never echoing the (possibly secret) input."""
    first = err.errors(include_input=False, include_url=False)[0]
    place = format_place(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "is not a manifest field"
    elif first["type"] == "missing":
        message = "is required"
    return LaunchDarklyValidationError(f"{place}: {message}", field=place)


def format_place(loc: tuple[Any, ...]) -> str:
    """Turn ``("destinations", 2, "targets", 0, "project")`` into ``destinations[2].targets[0].project``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "manifest"


def _entries(manifest: Manifest) -> list[ManifestEntry]:
    entries: list[ManifestEntry] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for index, spec in enumerate(manifest.destinations):
        for target_index, target in enumerate(spec.targets):
            place = f"destinations[{index}].targets[{target_index}]"
            config = {**_plain(spec.config), **_plain(target.config or {})}
            _check_config(spec.kind, config, place)
            for environment in target.environments:
                entry = ManifestEntry(
                    target.project, environment, spec.kind, spec.name, spec.on, config, place
                )
                if entry.identity in seen:
                    raise LaunchDarklyValidationError(
                        f"{place}: {spec.kind} destination {spec.name!r} in {target.project}/{environment} is "
                        f"already declared at {seen[entry.identity]}",
                        field=place,
                    )
                seen[entry.identity] = place
                entries.append(entry)
    return entries


def _plain(config: Mapping[str, Any]) -> dict[str, Any]:
    """Turn parsed secret references back into ``{"from_env": NAME}`` dicts."""
    return dict(config)


def _check_config(kind: str, config: dict[str, Any], place: str) -> None:
    """Check a merged config for its kind, with secret references standing in for their values."""
    for key, value in config.items():
        looks_like_reference = isinstance(value, Mapping) and bool({"from_env", "from_variable"} & set(value))
        if looks_like_reference and (secret_reference(value) is None or not next(iter(value.values()))):
            raise LaunchDarklyValidationError(
                f"{place}.config.{key}: a secret reference is {{from_env: NAME}} or {{from_variable: NAME}}",
                field=f"{place}.config.{key}",
            )
    stand_in = {key: _PLACEHOLDER if secret_reference(value) else value for key, value in config.items()}
    try:
        validate_destination_config(kind, stand_in)
    except LaunchDarklyValidationError as err:
        raise LaunchDarklyValidationError(f"{place}.{err.message}", field=f"{place}.{err.field}") from None


def secret_reference(value: Any) -> tuple[str, str] | None:
    """Return ``("env", NAME)`` or ``("variable", NAME)`` for a secret reference, else ``None``."""
    if isinstance(value, Mapping) and len(value) == 1:
        if isinstance(value.get("from_env"), str):
            return ("env", value["from_env"])
        if isinstance(value.get("from_variable"), str):
            return ("variable", value["from_variable"])
    return None


def resolve_config(
    config: Mapping[str, Any], place: str, *, variables: Callable[[str], Any] | None = None
) -> dict[str, Any]:
    """
    Replace secret references by their values (never logged or echoed).

    :param config: a merged config of a :class:`ManifestEntry`.
    :param place: the entry's place, for errors.
    :param variables: reads an Airflow Variable; ``None`` when ``from_variable`` is not available (command line).
    :raises LaunchDarklyValidationError: naming the place and the variable, when a value is missing.
    """
    resolved: dict[str, Any] = {}
    for key, value in config.items():
        reference = secret_reference(value)
        if reference is None:
            resolved[key] = value
            continue
        source, name = reference
        if source == "env":
            found = os.environ.get(name)
        elif variables is None:
            raise LaunchDarklyValidationError(
                f"{place}.config.{key}: from_variable needs Airflow; use from_env on the command line",
                field=f"{place}.config.{key}",
            )
        else:
            found = variables(name)
        if found is None or found == "":
            where = "environment variable" if source == "env" else "Airflow Variable"
            raise LaunchDarklyValidationError(
                f"{place}.config.{key}: the {where} {name!r} is not set", field=f"{place}.config.{key}"
            )
        resolved[key] = found
    return resolved


def airflow_variable(name: str) -> Any:
    """Read an Airflow Variable (``None`` when it does not exist) and register it with the secrets masker."""
    from airflow_provider_ld._compat import mask_secret

    try:
        from airflow.sdk import Variable
    except ImportError:  # pragma: no cover - Airflow 3.0
        from airflow.models import Variable
    try:
        value = Variable.get(name)
    except (KeyError, Exception) as err:  # the SDK raises its own "not found" error types
        if "not found" in str(err).lower() or isinstance(err, KeyError):
            return None
        raise
    if isinstance(value, str) and value:
        mask_secret(value)
    return value


def manifest_json_schema() -> dict[str, Any]:
    """Return the manifest's JSON Schema (what ``manifest.schema.json`` publishes)."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/airflow-provider-launchdarkly/schemas/destinations-manifest.json"
    return schema


def render_json_schema() -> str:
    """Return the schema as the committed file holds it."""
    return json.dumps(manifest_json_schema(), indent=2, sort_keys=True) + "\n"
