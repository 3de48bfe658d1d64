"""FastAPI wiring for the dashboard: a service on the app's database (not the request's
session: its reads run concurrently on connections of their own)."""

from typing import Annotated

from fastapi import Depends, Request

from apiforge.kit import app_state
from apiforge.shop.dashboard.service import DashboardService
from apiforge.shop.settings import shop_settings


async def dashboard_service(request: Request) -> DashboardService:
    state = app_state(request.app)
    return DashboardService(state.database, shop_settings(request.app).dashboard, cache=state.cache)


DashboardReader = Annotated[DashboardService, Depends(dashboard_service)]
