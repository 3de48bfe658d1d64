"""Organizations on the wire. Bodies forbid unknown fields: a `role` or `organization_id` slipped
into a create body is a 422, never silently applied (mass assignment)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr

from apiforge.kit import ShortText
from apiforge.shop.roles import OrgRole


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText


class OrganizationRead(BaseModel):
    id: int
    name: str
    created_at: datetime
    role: OrgRole  # the caller's role in it


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    role: OrgRole = OrgRole.VIEWER


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: OrgRole


class MemberRead(BaseModel):
    user_id: int
    email: str
    full_name: str | None
    role: OrgRole
    joined_at: datetime
