"""wrk: the generated Lua script and the parser, on output captured from real runs."""

import pytest

from apiforge.bench.scenario import ConcreteRequest
from apiforge.bench.wrk import JSON_MARKER, lua_script, parse_wrk_output, wrk_command

WITH_SCRIPT = """Running 1s test @ http://127.0.0.1:8765
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.29ms    6.17ms  49.59ms   94.29%
    Req/Sec     5.02k     1.88k    7.92k    63.64%
  Latency Distribution
     50%  588.00us
     75%    0.97ms
     90%    3.31ms
     99%   36.45ms
  5489 requests in 1.10s, 1.85MB read
  Non-2xx or 3xx responses: 12
Requests/sec:   4993.46
Transfer/sec:      1.68MB
"""
# What our done() printed in that run (one line in the real output).
WITH_SCRIPT += (
    'APIFORGE_BENCH_JSON {"requests":5489,"duration_us":1099237,"bytes":1937748,'
    '"errors":{"connect":0,"read":1,"write":0,"status":12,"timeout":2},'
    '"latency_us":{"p50":588,"p90":3310,"p95":10913,"p99":36447,"p999":48560,'
    '"max":49590,"mean":2294.6}}\n'
)

PLAIN = """Running 1s test @ http://127.0.0.1:8765/api/nope
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.26ms    3.74ms  28.96ms   94.72%
    Req/Sec    11.30k     3.03k   13.94k    72.73%
  Latency Distribution
     50%  289.00us
     75%  321.00us
     90%    1.73ms
     99%   1.50s
  12363 requests in 1.10s, 1.82MB read
  Socket errors: connect 0, read 3, write 0, timeout 7
  Non-2xx or 3xx responses: 12363
Requests/sec:  11245.14
Transfer/sec:      1.65MB
"""


def test_the_json_line_gives_exact_percentiles_and_errors() -> None:
    result = parse_wrk_output(WITH_SCRIPT)
    assert result.requests == 5489
    assert result.duration_s == 1.099237
    assert result.latency_ms["p50"] == 0.588
    assert result.latency_ms["p99"] == 36.447
    assert result.latency_ms["max"] == 49.59
    assert result.errors == {"connect": 0, "read": 1, "write": 0, "status": 12, "timeout": 2}
    assert result.non_2xx == 12
    assert result.raw_rps == 4993.46
    # Throughput counts answered 2xx/3xx only; errors count socket errors and non-2xx.
    assert result.rps == (5489 - 12) / 1.099237
    assert result.error_count == 15
    assert result.error_rate == 15 / (5489 + 3)


def test_the_text_report_is_the_fallback() -> None:
    result = parse_wrk_output(PLAIN)
    assert result.requests == 12363
    assert result.duration_s == 1.1
    assert result.latency_ms == {"p50": 0.289, "p75": 0.321, "p90": 1.73, "p99": 1500.0}
    assert result.errors == {"connect": 0, "read": 3, "write": 0, "timeout": 7, "status": 12363}
    assert result.non_2xx == 12363
    assert result.rps == 0.0  # every answer was a 404
    assert result.error_rate == 1.0


def test_anything_else_is_refused() -> None:
    with pytest.raises(ValueError, match="not wrk output"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_script_carries_headers_bodies_and_the_weighted_mix() -> None:
    mix = [
        ConcreteRequest("list", "GET", "/api/products", None),
        ConcreteRequest("list", "GET", "/api/products", None),
        ConcreteRequest("order", "POST", "/api/orders", '{"items": [{"product_id": 1}]}'),
    ]
    script = lua_script(mix, {"Authorization": "Bearer a.b.c"})
    assert script.count('{"GET", "/api/products", nil},') == 2
    assert '{"POST", "/api/orders", "{\\"items\\": [{\\"product_id\\": 1}]}"},' in script
    assert '["Authorization"] = "Bearer a.b.c",' in script
    assert 'h["Content-Type"] = "application/json"' in script
    assert JSON_MARKER in script
    assert "latency:percentile(99)" in script


def test_the_command_line() -> None:
    command = wrk_command("http://h:1", "s.lua", connections=64, threads=2, duration=9.6)
    assert command == [
        "wrk", "--connections=64", "--threads=2", "--duration=10s", "--timeout=15s",
        "--latency", "--script=s.lua", "http://h:1",
    ]  # fmt: skip
    # wrk refuses fewer connections than threads.
    assert "--connections=4" in wrk_command("u", "s", connections=1, threads=4, duration=0.2)
