"""
OpenLineage datasets for a Data Export destination: LaunchDarkly's event stream flows into the sink.

Imported only from :meth:`LaunchDarklyBaseOperator.get_openlineage_facets_on_complete`, which the
OpenLineage provider calls after a task succeeded; without ``apache-airflow-providers-openlineage``
nothing here is ever imported, so DAG parsing costs what it did before.

Naming (see ``docs/lineage.md``):

* input, the environment's events: namespace ``launchdarkly://<host>``, name ``<project>/<environment>/events``;
* output, the sink, following OpenLineage's dataset naming conventions where one exists
  (Pub/Sub, Snowflake, BigQuery, Redshift, Databricks), the AWS ARN form for Kinesis, the Kafka form
  for Azure Event Hubs (its Kafka endpoint), and ``launchdarkly://<host>`` with
  ``<project>/<environment>/destinations/<id>`` for kinds that have no dataset of their own
  (Segment, mParticle) or whose config lacks the parts a name needs;
* a ``launchdarklyDestination`` dataset facet on the output: kind, id, name, on, project, environment,
  and the action the task took. Never a config value that may be secret.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from attrs import define
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import DatasetFacet

#: Redshift's default port, used when the config does not name one.
REDSHIFT_DEFAULT_PORT = 5439
#: The port Azure Event Hubs serves its Kafka protocol on.
EVENT_HUBS_KAFKA_PORT = 9093
#: Where the facet is described: the package's page, whose documentation has the lineage chapter.
FACET_SCHEMA_URL = "https://pypi.org/project/airflow-provider-launchdarkly/#launchdarklydestination-facet"

_ROLE_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):")


@define
class LaunchDarklyDestinationDatasetFacet(DatasetFacet):
    """
    The LaunchDarkly destination behind an output dataset; never holds a secret.

    :param kind: the destination kind, e.g. ``kinesis``.
    :param destinationId: the destination's ``_id``.
    :param name: the destination's name.
    :param on: whether export is on.
    :param projectKey: the LaunchDarkly project.
    :param environmentKey: the LaunchDarkly environment.
    :param action: what the task did (``created``, ``adopted``, ``updated``, ``turned on``, ...).
    """

    kind: str
    destinationId: str
    name: str | None
    on: bool
    projectKey: str
    environmentKey: str
    action: str

    @staticmethod
    def _get_schema() -> str:
        return FACET_SCHEMA_URL


def events_dataset(host: str, project_key: str, environment_key: str) -> InputDataset:
    """
    Return the input dataset: the events of one LaunchDarkly environment.

    :param host: the LaunchDarkly host (and port), e.g. ``app.launchdarkly.com``.
    :param project_key: the project key.
    :param environment_key: the environment key.
    """
    return InputDataset(namespace=f"launchdarkly://{host}", name=f"{project_key}/{environment_key}/events")


def _text(config: dict[str, Any], *keys: str) -> str | None:
    """Return the first non-empty string among ``keys`` in ``config``."""
    for key in keys:
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _dotted(*parts: str | None) -> str | None:
    """Join the leading parts that are present with dots; ``None`` when the first is missing."""
    present = []
    for part in parts:
        if not part:
            break
        present.append(part)
    return ".".join(present) or None


def _kinesis(config: dict[str, Any]) -> tuple[str, str] | None:
    region, stream = _text(config, "region"), _text(config, "streamName")
    match = _ROLE_ARN_ACCOUNT.match(_text(config, "roleArn") or "")
    if not (region and stream and match):
        return None
    return f"arn:aws:kinesis:{region}:{match.group(1)}", f"stream/{stream}"


def _pubsub(config: dict[str, Any]) -> tuple[str, str] | None:
    project, topic = _text(config, "project"), _text(config, "topic")
    if not (project and topic):
        return None
    return "pubsub", f"topic:{project}:{topic}"


def _event_hubs(config: dict[str, Any]) -> tuple[str, str] | None:
    namespace, hub = _text(config, "namespace"), _text(config, "name")
    if not (namespace and hub):
        return None
    return f"kafka://{namespace}.servicebus.windows.net:{EVENT_HUBS_KAFKA_PORT}", hub


def snowflake_account(host_address: str) -> str:
    """
    Return the Snowflake account identifier from an account URL or host.

    ``https://myorg-acct.snowflakecomputing.com`` gives ``myorg-acct``; a bare identifier is kept.

    :param host_address: the ``snowflakeHostAddress`` of the destination.
    """
    host = urlsplit(host_address).hostname if "://" in host_address else host_address.split("/")[0]
    host = (host or "").lower()
    return host.removesuffix(".snowflakecomputing.com")


def _snowflake(config: dict[str, Any]) -> tuple[str, str] | None:
    host = _text(config, "snowflakeHostAddress")
    name = _dotted(_text(config, "databaseName", "database"), _text(config, "schemaName", "schema"))
    if not (host and name):
        return None
    return f"snowflake://{snowflake_account(host)}", name


def _bigquery(config: dict[str, Any]) -> tuple[str, str] | None:
    name = _dotted(
        _text(config, "projectId", "project"), _text(config, "datasetId", "dataset", "datasetName")
    )
    if not name or "." not in name:
        return None
    return "bigquery", name


def _redshift(config: dict[str, Any]) -> tuple[str, str] | None:
    cluster, region = _text(config, "clusterIdentifier"), _text(config, "clusterRegion", "region")
    name = _dotted(_text(config, "databaseName", "database"), _text(config, "schemaName", "schema"))
    if not (cluster and region and name):
        return None
    port = config.get("port") or REDSHIFT_DEFAULT_PORT
    return f"redshift://{cluster}.{region}:{port}", name


def _databricks(config: dict[str, Any]) -> tuple[str, str] | None:
    host = _text(config, "workspaceUrl", "host", "serverHostname")
    name = _dotted(_text(config, "catalog", "catalogName"), _text(config, "schema", "schemaName"))
    if not (host and name):
        return None
    hostname = urlsplit(host).hostname if "://" in host else host.split("/")[0]
    return f"databricks://{hostname}", name


#: Kinds whose sink has a dataset name; each maps the (redacted) config to ``(namespace, name)``.
SINK_NAMERS = {
    "kinesis": _kinesis,
    "google-pubsub": _pubsub,
    "azure-event-hubs": _event_hubs,
    "snowflake-v2": _snowflake,
    "bigquery": _bigquery,
    "redshift": _redshift,
    "databricks": _databricks,
}


def sink_dataset(host: str, project_key: str, environment_key: str, destination: Any) -> OutputDataset:
    """
    Return the output dataset for a destination: its sink when it can be named, else the destination itself.

    :param host: the LaunchDarkly host (and port).
    :param project_key: the project key.
    :param environment_key: the environment key.
    :param destination: the :class:`~airflow_provider_ld.models.Destination` the task ended with.
    """
    config = destination.to_dict().get("config") or {}
    namer = SINK_NAMERS.get(destination.kind)
    named = namer(config) if namer and isinstance(config, dict) else None
    if named is None:
        named = (f"launchdarkly://{host}", f"{project_key}/{environment_key}/destinations/{destination.id}")
    namespace, name = named
    return OutputDataset(namespace=namespace, name=name)


def operator_lineage(url: str, project_key: str, environment_key: str, destination: Any, action: str) -> Any:
    """
    Return the ``OperatorLineage`` of a task that left ``destination`` in place.

    :param url: the destination's UI link (its host is LaunchDarkly's host).
    :param project_key: the project key.
    :param environment_key: the environment key.
    :param destination: the destination as the API last returned it.
    :param action: what the task did.
    """
    from airflow.providers.openlineage.extractors import OperatorLineage

    host = urlsplit(url).netloc
    facet = LaunchDarklyDestinationDatasetFacet(
        kind=destination.kind,
        destinationId=destination.id,
        name=destination.name,
        on=bool(destination.on),
        projectKey=project_key,
        environmentKey=environment_key,
        action=action,
    )
    output = sink_dataset(host, project_key, environment_key, destination)
    output = OutputDataset(
        namespace=output.namespace, name=output.name, facets={"launchdarklyDestination": facet}
    )
    return OperatorLineage(
        inputs=[events_dataset(host, project_key, environment_key)],
        outputs=[output],
    )
