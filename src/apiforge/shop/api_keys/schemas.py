"""API keys on the wire. A listing shows the name, prefix, scopes and dates, never the secret;
the key itself appears once, in the creation answer (`ApiKeyCreated.key`)."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from apiforge.kit import ShortText
from apiforge.shop.roles import Scope


def _future(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise ValueError("give the expiry with a time zone (e.g. 2027-01-01T00:00:00Z)")
    return moment


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(Scope))]
    expires_at: Annotated[datetime | None, AfterValidator(_future)] = None


class ApiKeyRead(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The API key itself: shown this once, never again.")
