"""The signed-in user's dashboard."""

from fastapi import APIRouter, Response

from apiforge.kit import UserPrincipal, problem_responses, rate_limit
from apiforge.shop.dashboard.dependencies import DashboardReader
from apiforge.shop.dashboard.schemas import Dashboard
from apiforge.shop.permissions import PLATFORM
from apiforge.shop.ratelimits import AUTHENTICATED

router = APIRouter(prefix="/api", tags=["dashboard"], dependencies=[rate_limit(*AUTHENTICATED)])
STOCK_ALERT_ROLES = PLATFORM["catalog:write"]  # those who can restock see what runs low


@router.get(
    "/dashboard",
    response_model=Dashboard,
    response_model_exclude_none=True,
    responses=problem_responses(401, 403),
)
async def get_dashboard(principal: UserPrincipal, dashboard: DashboardReader) -> Response:
    """My order count and spend, my 5 newest orders, the 5 best-selling categories, and for
    admins only, live products with 5 or fewer in stock (`low_stock`, absent otherwise)."""
    body = await dashboard.build_json(
        principal.id, with_stock_alerts=principal.role in STOCK_ALERT_ROLES
    )
    return Response(body, media_type="application/json")
