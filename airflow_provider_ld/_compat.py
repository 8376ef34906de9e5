"""Imports that moved between Airflow 3 minor releases, resolved once."""

from __future__ import annotations

from typing import Any

try:
    from airflow.sdk import BaseHook
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]

try:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.exceptions import AirflowException, AirflowFailException  # type: ignore[no-redef]


def _resolve_mask_secret() -> Any:
    try:
        from airflow.sdk.log import mask_secret as sdk_mask_secret

        return sdk_mask_secret
    except ImportError:  # pragma: no cover - Airflow 3.0
        pass
    try:  # pragma: no cover - Airflow 3.0
        from airflow.sdk.execution_time.secrets_masker import mask_secret as exec_mask_secret

        return exec_mask_secret
    except ImportError:  # pragma: no cover
        from airflow.utils.log.secrets_masker import mask_secret as core_mask_secret

        return core_mask_secret


def mask_secret(value: str) -> None:
    """
    Register ``value`` with Airflow's secrets masker so it is redacted from task logs.

    :param value: the secret; empty values are ignored.
    """
    if value:
        _resolve_mask_secret()(value)


__all__ = ["AirflowException", "AirflowFailException", "BaseHook", "mask_secret"]
