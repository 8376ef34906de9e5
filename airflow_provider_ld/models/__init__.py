"""Typed models of the LaunchDarkly API's data (pydantic v2), read tolerantly and written strictly."""

from __future__ import annotations

from airflow_provider_ld.models._base import Link, validate_key
from airflow_provider_ld.models.configs import (
    CONFIG_MODELS,
    DESTINATION_KINDS,
    KNOWN_KINDS,
    WAREHOUSE_COMPLETE_KINDS,
    WAREHOUSE_KINDS,
    WAREHOUSE_SETUP_KINDS,
    AzureEventHubsConfig,
    BigQueryConfig,
    DatabricksConfig,
    DestinationConfig,
    GooglePubSubConfig,
    KinesisConfig,
    MParticleConfig,
    MParticleUserIdentity,
    RedshiftConfig,
    SegmentConfig,
    SnowflakeV2Config,
    missing_config_fields,
    validate_destination_config,
    validate_kind,
)
from airflow_provider_ld.models.delivery import (
    INTEGRATION_KEYS,
    DeliveryValidationResult,
    IntegrationDeliveryConfiguration,
    IntegrationDeliveryConfigurationList,
    validate_delivery_config,
)
from airflow_provider_ld.models.destinations import CompletedArtifacts, Destination, DestinationList
from airflow_provider_ld.models.identity import CallerIdentity
from airflow_provider_ld.models.warehouse import (
    TrustPolicy,
    TrustPolicyDocument,
    TrustPolicyStatement,
    WarehouseKeyPair,
    WarehouseSetupRequest,
    WarehouseSetupScript,
)

__all__ = [
    "CONFIG_MODELS",
    "DESTINATION_KINDS",
    "INTEGRATION_KEYS",
    "KNOWN_KINDS",
    "WAREHOUSE_COMPLETE_KINDS",
    "WAREHOUSE_KINDS",
    "WAREHOUSE_SETUP_KINDS",
    "AzureEventHubsConfig",
    "BigQueryConfig",
    "CallerIdentity",
    "CompletedArtifacts",
    "DatabricksConfig",
    "DeliveryValidationResult",
    "Destination",
    "DestinationConfig",
    "DestinationList",
    "GooglePubSubConfig",
    "IntegrationDeliveryConfiguration",
    "IntegrationDeliveryConfigurationList",
    "KinesisConfig",
    "Link",
    "MParticleConfig",
    "MParticleUserIdentity",
    "RedshiftConfig",
    "SegmentConfig",
    "SnowflakeV2Config",
    "TrustPolicy",
    "TrustPolicyDocument",
    "TrustPolicyStatement",
    "WarehouseKeyPair",
    "WarehouseSetupRequest",
    "WarehouseSetupScript",
    "missing_config_fields",
    "validate_delivery_config",
    "validate_destination_config",
    "validate_key",
    "validate_kind",
]
