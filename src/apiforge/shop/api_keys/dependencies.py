"""FastAPI wiring for API keys: the service bound to the request's unit of work."""

from typing import Annotated

from fastapi import Depends, Request

from apiforge.kit import ReadSession, WriteSession, app_state
from apiforge.shop.api_keys.service import ApiKeyService


async def api_key_reader(session: ReadSession) -> ApiKeyService:
    return ApiKeyService(session)


async def api_key_writer(request: Request, session: WriteSession) -> ApiKeyService:
    identity = app_state(request.app).identity
    return ApiKeyService(session, codec=identity.api_key_codec, identity=identity)


ApiKeyReads = Annotated[ApiKeyService, Depends(api_key_reader)]
ApiKeyWrites = Annotated[ApiKeyService, Depends(api_key_writer)]
