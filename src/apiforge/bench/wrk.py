"""Closed-loop throughput with wrk: the Lua script that sends a weighted mix with headers and
bodies and prints exact percentiles as JSON from `done()`, the command line, and the parser.

wrk's text output rounds latencies to two decimals of its unit; the JSON line from `done()`
carries microseconds, so the text is parsed only for what the JSON lacks (non-2xx count, and
as a fallback when a script is not ours).
"""

import json
import re
from dataclasses import dataclass, field

from apiforge.bench.scenario import ConcreteRequest

JSON_MARKER = "APIFORGE_BENCH_JSON "
PERCENTILES = (50, 90, 95, 99, 99.9)

_LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,'
    .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
    .. '"latency_us":{"p50":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\\n',
    "%MARKER%", summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for ASCII


def lua_script(mix: list[ConcreteRequest], headers: dict[str, str]) -> str:
    """A wrk script: requests are pre-formatted per thread in `init` (after wrk has set the
    Host header) and `request()` picks one uniformly from the weighted mix."""
    rows = []
    for item in mix:
        body = "nil" if item.body is None else _lua_string(item.body)
        rows.append(f"  {{{_lua_string(item.method)}, {_lua_string(item.path)}, {body}}},")
    header_rows = [f"    [{_lua_string(k)}] = {_lua_string(v)}," for k, v in headers.items()]
    return "\n".join(
        [
            "local mix = {",
            *rows,
            "}",
            "local reqs = {}",
            "local n = #mix",
            "local function headers(has_body)",
            "  local h = {",
            *header_rows,
            "  }",
            '  if has_body then h["Content-Type"] = "application/json" end',
            "  return h",
            "end",
            "init = function(args)",
            "  math.randomseed(os.time())",
            "  for i, m in ipairs(mix) do",
            "    reqs[i] = wrk.format(m[1], m[2], headers(m[3] ~= nil), m[3])",
            "  end",
            "end",
            "request = function()",
            "  return reqs[math.random(n)]",
            "end",
            _LUA_DONE.replace("%MARKER%", JSON_MARKER),
        ]
    )


def wrk_command(
    url: str, script: str, *, connections: int, threads: int, duration: float
) -> list[str]:
    return [
        "wrk",
        f"--connections={max(connections, threads)}",
        f"--threads={threads}",
        f"--duration={max(1, round(duration))}s",
        "--timeout=15s",
        "--latency",
        f"--script={script}",
        url,
    ]


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    errors: dict[str, int]
    non_2xx: int
    latency_ms: dict[str, float]
    bytes: int = 0
    raw_rps: float = field(default=0.0)

    @property
    def rps(self) -> float:
        """Requests per second that got a 2xx or 3xx answer: a fast 404 is not throughput."""
        return max(self.requests - self.non_2xx, 0) / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        socket = sum(v for k, v in self.errors.items() if k != "status")
        return socket + self.non_2xx

    @property
    def error_rate(self) -> float:
        attempts = self.requests + sum(v for k, v in self.errors.items() if k != "status")
        return self.error_count / attempts if attempts else 1.0


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_LATENCY_LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+(\d+(?:\.\d+)?)(us|ms|s|m|h)\s*$", re.M)
_REQUESTS = re.compile(r"(\d+) requests in (\d+(?:\.\d+)?)(us|ms|s|m|h)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_RPS = re.compile(r"Requests/sec:\s+(\d+(?:\.\d+)?)")


def _text_percentiles(text: str) -> dict[str, float]:
    out = {}
    for pct, value, unit in _LATENCY_LINE.findall(text):
        out["p" + pct.replace(".", "")] = float(value) * _UNIT_MS[unit]
    return out


def parse_wrk_output(text: str) -> WrkResult:
    """wrk's stdout: the JSON line from our `done()` when present, else the text report."""
    non_2xx = int(m.group(1)) if (m := _NON_2XX.search(text)) else 0
    raw_rps = float(m.group(1)) if (m := _RPS.search(text)) else 0.0
    for line in text.splitlines():
        if line.startswith(JSON_MARKER):
            data = json.loads(line[len(JSON_MARKER) :])
            latency = {k: v / 1000.0 for k, v in data["latency_us"].items()}
            return WrkResult(
                requests=data["requests"],
                duration_s=data["duration_us"] / 1e6,
                errors=dict(data["errors"]),
                non_2xx=max(non_2xx, data["errors"]["status"]),
                latency_ms=latency,
                bytes=data["bytes"],
                raw_rps=raw_rps,
            )
    requests = _REQUESTS.search(text)
    if requests is None:
        raise ValueError(f"not wrk output: {text[:200]!r}")
    duration_s = float(requests.group(2)) * _UNIT_MS[requests.group(3)] / 1000.0
    socket = _SOCKET.search(text)
    counts = [int(g) for g in socket.groups()] if socket else [0, 0, 0, 0]
    errors = dict(zip(("connect", "read", "write", "timeout"), counts, strict=True))
    errors["status"] = non_2xx
    return WrkResult(
        requests=int(requests.group(1)),
        duration_s=duration_s,
        errors=errors,
        non_2xx=non_2xx,
        latency_ms=_text_percentiles(text),
        raw_rps=raw_rps,
    )
