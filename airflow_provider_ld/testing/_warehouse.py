"""Fake warehouse artefacts: key pairs, trust policies and setup scripts (no real crypto)."""

from __future__ import annotations

import base64
import json
import re
import secrets
import textwrap
from typing import Any

from airflow_provider_ld.testing._validation import SECRET_SETUP_FIELDS

#: Fake AWS account that "LaunchDarkly Data Export" runs in.
LAUNCHDARKLY_AWS_ACCOUNT = "123456789012"
#: LaunchDarkly's documented Data Export transfer IP (for network policies in scripts).
TRANSFER_IP = "35.192.85.117"
DEFAULT_SNOWFLAKE_HOST = "https://example.snowflakecomputing.com"
_RSA_SPKI_PREFIX = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"


def generate_key_pair() -> tuple[str, str]:
    """
    Return a fake ``(public_key, public_key_pkcs8)`` pair.

    ``public_key`` is a bare base64 body (what Snowflake's ``RSA_PUBLIC_KEY`` takes);
    ``public_key_pkcs8`` is the same key PEM-wrapped.
    """
    body = _RSA_SPKI_PREFIX + base64.b64encode(secrets.token_bytes(258)).decode()
    pem = "\n".join(["-----BEGIN PUBLIC KEY-----", *textwrap.wrap(body, 64), "-----END PUBLIC KEY-----"])
    return body, pem


def trust_policy(project_key: str, environment_key: str) -> dict[str, Any]:
    """
    Build a ``TrustPolicyDetails`` letting the fake LaunchDarkly account assume a role.

    :param project_key: project key.
    :param environment_key: environment key.
    """
    external_id = f"{project_key}-{environment_key}-{secrets.token_hex(8)}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sts:AssumeRole"],
                "Principal": {"AWS": f"arn:aws:iam::{LAUNCHDARKLY_AWS_ACCOUNT}:root"},
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def _ident(project_key: str, environment_key: str) -> str:
    """
    Derive an SQL-safe upper-case suffix from project and environment keys.

    :param project_key: project key.
    :param environment_key: environment key.
    """
    return re.sub(r"[^A-Za-z0-9]", "_", f"{project_key}__{environment_key}").upper()


def _bucket(project_key: str, environment_key: str) -> str:
    """
    Generate a staging S3 bucket name.

    :param project_key: project key.
    :param environment_key: environment key.
    """
    base = re.sub(r"[^a-z0-9-]", "-", f"ld-export-{project_key}-{environment_key}".lower())[:48]
    return f"{base}-{secrets.token_hex(4)}"


def snowflake_script(project_key: str, environment_key: str, body: dict[str, Any], public_key: str) -> str:
    """
    Build a plausible Snowflake setup script.

    :param project_key: project key.
    :param environment_key: environment key.
    :param body: validated setup body (custom object names).
    :param public_key: the public key to assign to the export user.
    """
    suffix = _ident(project_key, environment_key)
    db = body.get("databaseName", "LD_EXPORT")
    schema = body.get("schemaName", f"EXPORT_{suffix}")
    warehouse = body.get("warehouseName", "LD_EXPORT_WH")
    role = body.get("roleName", f"LD_EXPORT_ROLE_{suffix}")
    user = body.get("userName", f"LD_EXPORT_USER_{suffix}")
    lines = [
        f"CREATE ROLE IF NOT EXISTS {role};",
        f"CREATE WAREHOUSE IF NOT EXISTS {warehouse} WITH WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60;",
        f"CREATE DATABASE IF NOT EXISTS {db};",
        f"CREATE SCHEMA IF NOT EXISTS {db}.{schema};",
        (
            f"CREATE USER IF NOT EXISTS {user} RSA_PUBLIC_KEY='{public_key}' DEFAULT_ROLE={role} "
            f"DEFAULT_WAREHOUSE={warehouse};"
        ),
        f"GRANT ROLE {role} TO USER {user};",
        f"GRANT USAGE ON WAREHOUSE {warehouse} TO ROLE {role};",
        f"GRANT USAGE ON DATABASE {db} TO ROLE {role};",
        f"GRANT ALL ON SCHEMA {db}.{schema} TO ROLE {role};",
    ]
    if body.get("includeNetworkPolicy"):
        rule = f"{db}.{schema}.LD_DATA_EXPORT_NETWORK_RULE"
        policy = "LD_DATA_EXPORT_NETWORK_POLICY"
        lines += [
            (
                f"CREATE NETWORK RULE IF NOT EXISTS {rule} MODE = INGRESS TYPE = IPV4 "
                f"VALUE_LIST = ('{TRANSFER_IP}');"
            ),
            f"CREATE NETWORK POLICY IF NOT EXISTS {policy} ALLOWED_NETWORK_RULE_LIST = ('{rule}');",
            f"ALTER USER {user} SET NETWORK_POLICY = {policy};",
        ]
    return "\n".join(lines)


def redshift_script(project_key: str, environment_key: str, body: dict[str, Any]) -> str:
    """
    Build a plausible Redshift setup script.

    :param project_key: project key.
    :param environment_key: environment key.
    :param body: validated setup body.
    """
    suffix = _ident(project_key, environment_key).lower()
    db = body.get("databaseName", "ld_export")
    schema = body.get("schemaName", f"export_{suffix}")
    user = body.get("userName", f"ld_export_user_{suffix}")
    return "\n".join(
        [
            f"CREATE SCHEMA IF NOT EXISTS {db}.{schema};",
            f"CREATE USER {user} PASSWORD DISABLE;",
            f"GRANT USAGE, CREATE ON SCHEMA {db}.{schema} TO {user};",
            f"GRANT ALL ON ALL TABLES IN SCHEMA {db}.{schema} TO {user};",
        ]
    )


def clickhouse_script(project_key: str, environment_key: str, body: dict[str, Any]) -> str:
    """
    Build a plausible ClickHouse setup script (the password is never echoed).

    :param project_key: project key.
    :param environment_key: environment key.
    :param body: validated setup body.
    """
    suffix = _ident(project_key, environment_key).lower()
    db = body.get("clickHouseDatabaseName", f"ld_export_{suffix}")
    user = body.get("clickHouseUserName", f"ld_export_user_{suffix}")
    lines = [
        f"CREATE DATABASE IF NOT EXISTS {db};",
        f"CREATE USER IF NOT EXISTS {user} IDENTIFIED WITH sha256_password BY '<your password>';",
        f"GRANT CREATE TABLE, INSERT, SELECT ON {db}.* TO {user};",
    ]
    if body.get("clickHouseIncludeHostRestriction"):
        lines.append(f"ALTER USER {user} HOST IP '{TRANSFER_IP}';")
    return "\n".join(lines)


def generic_script(kind: str, project_key: str, environment_key: str, body: dict[str, Any]) -> str:
    """
    Build a plausible BigQuery / Databricks setup script.

    :param kind: ``bigquery`` or ``databricks``.
    :param project_key: project key.
    :param environment_key: environment key.
    :param body: validated setup body.
    """
    suffix = _ident(project_key, environment_key).lower()
    schema = body.get("schemaName", f"ld_export_{suffix}")
    database = body.get("databaseName")
    qualified = f"{database}.{schema}" if database else schema
    return f"-- LaunchDarkly Data Export setup for {kind}\nCREATE SCHEMA IF NOT EXISTS {qualified};"


def redshift_iam_policies(
    project_key: str, environment_key: str, body: dict[str, Any], bucket: str
) -> dict[str, str]:
    """
    Build the two Redshift IAM policy documents (as JSON strings).

    :param project_key: project key.
    :param environment_key: environment key.
    :param body: validated setup body with the three ``cluster*`` fields.
    :param bucket: the staging bucket name.
    """
    region, account, cluster = body["clusterRegion"], body["clusterAwsAccountId"], body["clusterIdentifier"]
    permissions = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            },
            {
                "Effect": "Allow",
                "Action": ["redshift:GetClusterCredentials"],
                "Resource": [f"arn:aws:redshift:{region}:{account}:cluster:{cluster}"],
            },
        ],
    }
    return {
        "redshiftIAMPermissionsPolicy": json.dumps(permissions),
        "redshiftIAMTrustPolicy": json.dumps(trust_policy(project_key, environment_key)),
    }


def staging_bucket_name(body: dict[str, Any]) -> str | None:
    """
    Return the staging bucket a setup body names, if any.

    :param body: validated setup body.
    """
    return body.get("clickHouseS3BucketName") or body.get("s3BucketName")


def setup_artifacts(
    project_key: str, environment_key: str, kind: str, body: dict[str, Any], bucket: str | None = None
) -> dict[str, Any]:
    """
    Produce the ``WarehouseDestinationSetupScriptRep`` for a guided setup.

    :param project_key: project key.
    :param environment_key: environment key.
    :param kind: warehouse kind (already validated).
    :param body: validated setup body.
    :param bucket: the staging bucket to use (Redshift, ClickHouse); a new name is generated without one.
    """
    if kind == "snowflake-v2":
        public_key, pkcs8 = generate_key_pair()
        script = snowflake_script(project_key, environment_key, body, public_key)
        return {"script": script, "publicKey": public_key, "publicKeyPkcs8": pkcs8}
    if kind == "redshift":
        bucket = bucket or _bucket(project_key, environment_key)
        rep: dict[str, Any] = {
            "script": redshift_script(project_key, environment_key, body),
            "s3BucketName": bucket,
        }
        if all(body.get(key) for key in ("clusterIdentifier", "clusterRegion", "clusterAwsAccountId")):
            rep.update(redshift_iam_policies(project_key, environment_key, body, bucket))
        return rep
    if kind == "clickhouse":
        bucket = bucket or _bucket(project_key, environment_key)
        return {"script": clickhouse_script(project_key, environment_key, body), "s3BucketName": bucket}
    return {"script": generic_script(kind, project_key, environment_key, body)}


def completed_config(kind: str, body: dict[str, Any], artifacts: dict[str, Any]) -> dict[str, Any]:
    """
    Build the ``config`` of the destination created by ``complete-setup``.

    :param kind: warehouse kind.
    :param body: the setup body stored with the pending destination.
    :param artifacts: the setup response stored with the pending destination.
    """
    config = {k: v for k, v in body.items() if k != "name" and k not in SECRET_SETUP_FIELDS}
    if kind == "snowflake-v2":
        config["publicKey"] = artifacts["publicKey"]
        config.setdefault("snowflakeHostAddress", DEFAULT_SNOWFLAKE_HOST)
    elif kind == "clickhouse":
        config.setdefault("s3BucketName", artifacts["s3BucketName"])
    return config
