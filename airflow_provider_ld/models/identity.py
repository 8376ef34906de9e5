"""Who the API token belongs to (``GET /api/v2/caller-identity``)."""

from __future__ import annotations

from pydantic import Field

from airflow_provider_ld.models._base import ApiModel


class CallerIdentity(ApiModel):
    """The token's account, scope and kind. Every field is optional; the API documents only names."""

    account_id: str | None = Field(default=None, alias="accountId")
    environment_id: str | None = Field(default=None, alias="environmentId")
    project_id: str | None = Field(default=None, alias="projectId")
    environment_name: str | None = Field(default=None, alias="environmentName")
    project_name: str | None = Field(default=None, alias="projectName")
    auth_kind: str | None = Field(default=None, alias="authKind")
    token_kind: str | None = Field(default=None, alias="tokenKind")
    client_id: str | None = Field(default=None, alias="clientId")
    token_name: str | None = Field(default=None, alias="tokenName")
    token_id: str | None = Field(default=None, alias="tokenId")
    member_id: str | None = Field(default=None, alias="memberId")
    service_token: bool | None = Field(default=None, alias="serviceToken")
    scopes: list[str] | None = None

    def describe(self) -> str:
        """One line for logs and connection tests: account, token and scope, without secrets."""
        parts = [f"account {self.account_id or 'unknown'}"]
        if self.token_name or self.token_kind:
            parts.append(
                f"token {self.token_name or ''} ({self.token_kind or self.auth_kind or 'unknown kind'})".replace(
                    "  ", " "
                )
            )
        if self.project_name or self.project_id:
            parts.append(f"project {self.project_name or self.project_id}")
        if self.environment_name or self.environment_id:
            parts.append(f"environment {self.environment_name or self.environment_id}")
        if self.scopes:
            parts.append(f"scopes {', '.join(self.scopes)}")
        return "; ".join(parts)
