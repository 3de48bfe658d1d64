"""Liveness and readiness probes. Not for: metrics (a probe answers yes or no)."""

from apiforge.kit.health.router import health_router

__all__ = ["health_router"]
