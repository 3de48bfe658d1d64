"""The route template of a request (`/api/products/{product_id}`): the bounded name that log
lines and metric labels use instead of the raw path. Not for: routing itself.

Kept outside `kit.middleware` so the front cache (which the middleware package imports) can use
it without an import cycle.
"""

from apiforge.kit.asgi import Scope

UNMATCHED = "<unmatched>"
# Set in scope["state"] by a layer that answers before routing (the front cache), so its
# answers are still reported under their route.
ROUTE_TEMPLATE_STATE = "route_template"
# Set in scope["state"] (True) by the front cache on the answers it serves from the cache: the
# access log samples those lines at high rates (kit/access_log.py).
CACHE_HIT_STATE = "cache_hit"


def route_template(scope: Scope) -> str:
    route = scope.get("route")  # set by FastAPI's router on a match (or a 405 partial match)
    template = getattr(route, "path", None)
    if isinstance(template, str):
        return template
    state = scope.get("state")
    if state is not None:
        pinned = state.get(ROUTE_TEMPLATE_STATE)
        if pinned is not None:
            return str(pinned)
    return UNMATCHED
