"""Redis stand-ins that misbehave: a port nothing listens on, and a server that accepts
connections and never answers (a hung Redis)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from apiforge.bench.targets import free_port


def closed_port_url() -> str:
    """A Redis URL on a port nothing listens on: connections are refused at once."""
    return f"redis://127.0.0.1:{free_port()}/0"


@asynccontextmanager
async def hung_redis() -> AsyncIterator[str]:
    """A Redis URL whose server accepts, reads and never replies."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(4096):
            pass

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
