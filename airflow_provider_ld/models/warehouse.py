"""Requests and responses of the warehouse destination setup flow (Snowflake, Redshift, ClickHouse, ...)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from airflow_provider_ld.exceptions import LaunchDarklyValidationError
from airflow_provider_ld.models._base import ApiModel
from airflow_provider_ld.models.secrets import reveal_fields


class WarehouseKeyPair(ApiModel):
    """
    A Snowflake key pair made by LaunchDarkly (only the public halves; LaunchDarkly keeps the private key).

    ``public_key`` goes into the destination's ``config.publicKey``; ``public_key_pkcs8`` is what you
    assign to the Snowflake user.
    """

    public_key: str | None = None
    public_key_pkcs8: str | None = None


class TrustPolicyStatement(ApiModel):
    """One statement of an AWS IAM trust policy."""

    effect: str | None = Field(default=None, alias="Effect")
    action: list[str] | None = Field(default=None, alias="Action")
    principal: Any = Field(default=None, alias="Principal")
    condition: Any = Field(default=None, alias="Condition")


class TrustPolicyDocument(ApiModel):
    """An AWS IAM trust policy document."""

    version: str | None = Field(default=None, alias="Version")
    statement: list[TrustPolicyStatement] = Field(default_factory=list, alias="Statement")


class TrustPolicy(ApiModel):
    """The trust policy that lets LaunchDarkly Data Export assume a role in your AWS account."""

    aws_trust_policy: TrustPolicyDocument | None = Field(default=None, alias="awsTrustPolicy")


class WarehouseSetupRequest(BaseModel):
    """
    Optional body of the guided ``setup`` call. Every field is optional; names are the API's.

    Snowflake: ``snowflakeHostAddress``, ``databaseName``, ``warehouseName``, ``roleName``, ``schemaName``,
    ``userName``, ``includeNetworkPolicy``. Redshift: ``clusterIdentifier``, ``clusterRegion``,
    ``clusterAwsAccountId`` (all three to get the IAM policies back), ``databaseName``, ``s3BucketName``.
    ClickHouse: ``endpoint`` and the ``clickHouse*`` fields. ``clickHousePassword`` is secret.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str | None = None
    snowflakeHostAddress: str | None = None
    databaseName: str | None = None
    warehouseName: str | None = None
    roleName: str | None = None
    schemaName: str | None = None
    userName: str | None = None
    includeNetworkPolicy: bool | None = None
    clusterIdentifier: str | None = None
    clusterRegion: str | None = None
    clusterAwsAccountId: str | None = None
    endpoint: str | None = None
    clickHouseDatabaseName: str | None = None
    clickHouseUserName: str | None = None
    clickHouseS3BucketName: str | None = None
    clickHouseIncludeHostRestriction: bool | None = None
    clickHouseServiceRoleArn: str | None = None
    clickHousePassword: SecretStr | None = None
    s3BucketName: str | None = None

    def to_request(self) -> dict[str, Any]:
        """Return the body as sent: secrets revealed, unset fields left out."""
        return reveal_fields(self.model_dump(exclude_none=True))

    @classmethod
    def parse(cls, value: Any) -> WarehouseSetupRequest:
        """
        Validate a dict (or pass through an instance), raising our error naming the field.

        :param value: ``None``, a dict in wire spelling, or a :class:`WarehouseSetupRequest`.
        """
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise LaunchDarklyValidationError(
                f"setup: must be an object (dict), got {type(value).__name__}", field="setup"
            )
        try:
            return cls.model_validate(value)
        except ValidationError as err:
            first = err.errors(include_input=False, include_url=False)[0]
            field = "setup." + ".".join(str(part) for part in first["loc"])
            reason = "is not a setup field" if first["type"] == "extra_forbidden" else first["msg"].lower()
            raise LaunchDarklyValidationError(
                f"{field}: {reason}; allowed fields: {', '.join(cls.model_fields)}",
                field=field,
                allowed=tuple(cls.model_fields),
            ) from None


class WarehouseSetupScript(ApiModel):
    """
    What the guided ``setup`` call returns: the SQL to run in the warehouse and what goes with it.

    ``public_key``/``public_key_pkcs8`` come back for Snowflake, the two IAM policy documents for
    Redshift (only when the cluster fields were sent), and ``s3_bucket_name`` for Redshift and ClickHouse.
    """

    script: str | None = None
    public_key: str | None = Field(default=None, alias="publicKey")
    public_key_pkcs8: str | None = Field(default=None, alias="publicKeyPkcs8")
    redshift_iam_permissions_policy: str | None = Field(default=None, alias="redshiftIAMPermissionsPolicy")
    redshift_iam_trust_policy: str | None = Field(default=None, alias="redshiftIAMTrustPolicy")
    s3_bucket_name: str | None = Field(default=None, alias="s3BucketName")
