"""FastAPI wiring for organizations: the service bound to the request's unit of work."""

from typing import Annotated

from fastapi import Depends, Request

from apiforge.kit import ReadSession, WriteSession, app_state
from apiforge.shop.organizations.service import OrganizationService


async def organization_reader(request: Request, session: ReadSession) -> OrganizationService:
    return OrganizationService(session, identity=app_state(request.app).identity)


async def organization_writer(request: Request, session: WriteSession) -> OrganizationService:
    return OrganizationService(session, identity=app_state(request.app).identity)


OrganizationReads = Annotated[OrganizationService, Depends(organization_reader)]
OrganizationWrites = Annotated[OrganizationService, Depends(organization_writer)]
