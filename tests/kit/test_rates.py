"""Policies as data: rates parse from what people write, settings adjust a declared policy by
name (from the environment too), and a name the service does not declare stops the start."""

import pytest
from pydantic import ValidationError

from apiforge.kit import (
    LimitKey,
    OnFailure,
    Rate,
    RateLimitPolicy,
    RateLimitPolicySettings,
    Settings,
    StartupError,
    create_app,
)
from tests.kit.apps import kit_settings

WRITES = RateLimitPolicy("writes", Rate.parse_all("20/s, 1000/h"), LimitKey.PRINCIPAL)


@pytest.mark.parametrize(
    ("text", "limit", "window", "label"),
    [
        ("20/s", 20, 1, "1s"),
        ("1000/h", 1000, 3600, "1h"),
        ("5/15min", 5, 900, "15min"),
        ("50/10s", 50, 10, "10s"),
        ("100 / minute", 100, 60, "1min"),
        ("7/2hours", 7, 7200, "2h"),
        ("10/d", 10, 86400, "1d"),
        ("3/90s", 3, 90, "90s"),
    ],
)
def test_rates_parse(text: str, limit: int, window: int, label: str) -> None:
    rate = Rate.parse(text)
    assert (rate.limit, rate.window, rate.label) == (limit, window, label)


@pytest.mark.parametrize("text", ["", "20", "/s", "20/fortnight", "0/s", "5/0s", "-1/s"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        Rate.parse(text)


def test_policy_names_are_settings_names() -> None:
    with pytest.raises(ValueError, match="lowercase"):
        RateLimitPolicy("Login-IP", Rate.parse_all("1/s"), LimitKey.CLIENT_IP)
    with pytest.raises(ValueError, match="at least one rate"):
        RateLimitPolicy("empty", (), LimitKey.CLIENT_IP)


def test_settings_adjust_only_what_they_set() -> None:
    adjusted = WRITES.adjusted(RateLimitPolicySettings(rates="5/min", on_failure="closed"))  # type: ignore[arg-type]  # parsed by the validator
    assert adjusted.rates == (Rate(5, 60),)
    assert adjusted.on_failure is OnFailure.CLOSED
    assert (adjusted.key, adjusted.local, adjusted.enabled) == (LimitKey.PRINCIPAL, False, True)
    assert WRITES.adjusted(None) is WRITES


def test_the_environment_adjusts_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIFORGE_RATELIMIT__POLICIES__WRITES__RATES", "50/10s, 2000/h")
    monkeypatch.setenv("APIFORGE_RATELIMIT__POLICIES__LOGIN_IP__RATES", '["3/min"]')
    monkeypatch.setenv("APIFORGE_RATELIMIT__POLICIES__LOGIN_IP__ENABLED", "false")
    settings = Settings(_env_file=None, environment="test")  # type: ignore[arg-type]  # coerced
    policies = settings.ratelimit.policies
    assert policies["writes"].rates == (Rate(50, 10), Rate(2000, 3600))
    assert policies["login_ip"].rates == (Rate(3, 60),)
    assert policies["login_ip"].enabled is False


def test_a_bad_rate_in_the_environment_stops_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIFORGE_RATELIMIT__POLICIES__WRITES__RATES", "lots/s")
    with pytest.raises(ValidationError, match="not a rate"):
        Settings(_env_file=None, environment="test")  # type: ignore[arg-type]  # coerced


def test_the_key_prefix_follows_the_service_name() -> None:
    settings = Settings(_env_file=None, environment="test", service_name="notes")  # type: ignore[arg-type]  # coerced
    assert settings.ratelimit.key_prefix == "notes:ratelimit:"


def test_adjusting_an_undeclared_policy_stops_the_start(sqlite_url: str) -> None:
    settings = kit_settings(sqlite_url, ratelimit={"policies": {"wirtes": {"rates": "1/s"}}})
    with pytest.raises(StartupError, match="no policy named wirtes; the service declares writes"):
        create_app(settings, rate_limits=[WRITES])
