"""An OTLP/HTTP receiver that accepts span exports and discards them: the collector stand-in
for measuring the shop with tracing on, so the figure is the exporter's cost in the shop and
not a collector's. Not for: inspecting spans (tests use the SDK's in-memory exporter)."""

from typing import Any

# An empty ExportTraceServiceResponse: zero protobuf bytes means "all accepted".
_EMPTY = b""


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the whole export so the client's write completes
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/x-protobuf"), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": _EMPTY})
