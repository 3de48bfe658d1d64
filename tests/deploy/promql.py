"""The metric names a PromQL expression reads, and the metric contract with apiforge.kit.metrics
that the dashboard and the alert rules must keep to. Not a PromQL parser: promtool checks the
syntax; this only finds the series selectors' names."""

import re

# Names and types as apiforge.kit.metrics exports them (the contract with deploy/).
CONTRACT: dict[str, str] = {
    "apiforge_http_requests_total": "counter",
    "apiforge_http_request_duration_seconds": "histogram",
    "apiforge_http_requests_in_progress": "gauge",
    "apiforge_db_pool_size": "gauge",
    "apiforge_db_pool_checked_out": "gauge",
    "apiforge_db_pool_overflow": "gauge",
    "apiforge_db_pool_wait_seconds": "histogram",
    "apiforge_cache_hits_total": "counter",
    "apiforge_cache_misses_total": "counter",
    "apiforge_cache_errors_total": "counter",
    "apiforge_event_loop_lag_seconds": "histogram",
    "apiforge_build_info": "gauge",
}
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")

_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(?!\w)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """Every series name the expression selects (recording-rule names included)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def contract_metric(series: str) -> str | None:
    """The contract metric a series name belongs to (`..._bucket` -> the histogram), if any."""
    if series in CONTRACT:
        return series
    for suffix in HISTOGRAM_SERIES:
        base = series.removesuffix(suffix)
        if base != series and CONTRACT.get(base) == "histogram":
            return base
    return None
