"""Wires the metrics into an app being built: the request observer, the sampler's lifespan
resource and, when allowed on the main port, the endpoint. Not for: the metric definitions."""

from collections.abc import Mapping

from fastapi import FastAPI

from apiforge.kit.asgi import Scope
from apiforge.kit.cache import CacheStats
from apiforge.kit.metrics.http import HttpMetrics
from apiforge.kit.metrics.registry import AppMetrics, build_metrics
from apiforge.kit.metrics.router import metrics_router
from apiforge.kit.metrics.sampler import MetricsSampler
from apiforge.kit.middleware.telemetry import RequestObserver
from apiforge.kit.settings import Settings
from apiforge.kit.state import LifespanResource, app_config


def install_metrics(
    app: FastAPI,
    settings: Settings,
    *,
    version: str,
    in_flight: Mapping[int, Scope],
    front: CacheStats | None,
    observers: list[RequestObserver],
    resources: list[LifespanResource],
) -> AppMetrics | None:
    """Appends to `observers` and `resources`; returns the metrics (`create_app` keeps them
    in the app's `AppConfig`, see `app_metrics`), or None when `settings.metrics.enabled` is
    off."""
    if not settings.metrics.enabled:
        return None
    metrics = build_metrics(version=version, namespace=settings.metrics.namespace)
    http = HttpMetrics(metrics)
    sampler = MetricsSampler(
        metrics,
        in_flight=in_flight,
        http=http,
        front=front,
        multiproc_dir=settings.metrics.multiproc_dir,
    )
    observers.append(http)
    resources.append(sampler.running)
    if settings.metrics_on_main_port:
        app.include_router(metrics_router(settings.metrics.path, sampler))
    return metrics


def app_metrics(app: FastAPI) -> AppMetrics | None:
    """The app's metrics (None when disabled), for components that add their own figures."""
    return app_config(app).metrics
