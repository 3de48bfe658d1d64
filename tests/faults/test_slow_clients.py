"""Slow clients on purpose, against the shop as `apiforge serve` runs it (one worker, the kit's
defaults), on each server: 900 connections send a request's headers at 1 byte per 10 s
(slowloris, reconnecting whenever the server closes one) and 100 send a 100 KB body at 1 KB/s,
while a probe reads products at 20 requests a second on fresh connections. The probe sees no
error and a p99 within 200 ms (a concurrency limit the slow connections could fill would show
here), every slow connection is closed by the server within 15 s (header-read timeout, body read
deadline), and the server's open file descriptors are back to their baseline within 20 s of the
attack's end."""

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.faults.figures import record
from tests.faults.load import FreshConnections, Outcome, Requester, open_loop, p99, statuses
from tests.faults.observers import open_fds, raise_fd_limit
from tests.faults.shop import scratch_postgres, served_shop_process

HEADER_CLIENTS, BODY_CLIENTS = 900, 100
HEADER_BYTE_EVERY = 10.0
BODY_BYTES, BODY_CHUNK = 100_000, 1024
RAMP_SECONDS, ATTACK_SECONDS = 2.0, 25.0
PROBE_RATE = 20
PROBE_P99_LIMIT = 0.2
CLOSED_WITHIN = 15.0
FDS_BACK_WITHIN = 20.0
# A connection the server never closes is given up on here (and fails the bound above).
GIVE_UP_AFTER = 60.0
# The pool may hold a few more connections after the probe than before it.
FD_SLACK = 8


@dataclass
class Attack:
    host: str
    port: int
    stop_at: float
    lifetimes: dict[str, list[float]] = field(default_factory=lambda: {"header": [], "body": []})
    answers: dict[str, int] = field(default_factory=dict)

    def lived(self, kind: str, opened: float, first_line: bytes) -> None:
        self.lifetimes[kind].append(time.monotonic() - opened)
        key = f"{kind}: {first_line.decode('latin-1').strip() or 'closed without an answer'}"
        self.answers[key] = self.answers.get(key, 0) + 1


async def _until_closed(reader: asyncio.StreamReader, within: float) -> bytes | None:
    """What the server sent before closing (None: still open after `within` seconds)."""
    received = b""
    try:
        async with asyncio.timeout(within):
            while chunk := await reader.read(4096):
                received += chunk
    except TimeoutError:
        return None
    except OSError:  # a reset is a close too
        pass
    return received or b""


async def _header_client(attack: Attack, delay: float) -> None:
    await asyncio.sleep(delay)
    while time.monotonic() < attack.stop_at:
        opened = time.monotonic()
        reader, writer = await asyncio.open_connection(attack.host, attack.port)
        writer.write(b"GET /api/products HTTP/1.1\r\nhost: shop\r\n")
        received = None
        with contextlib.suppress(OSError):
            while received is None and time.monotonic() - opened < GIVE_UP_AFTER:
                received = await _until_closed(reader, HEADER_BYTE_EVERY)
                if received is None:
                    writer.write(b"x")
        attack.lived("header", opened, (received or b"").split(b"\r\n", 1)[0])
        writer.close()


async def _body_client(attack: Attack, delay: float) -> None:
    await asyncio.sleep(delay)
    while time.monotonic() < attack.stop_at:
        opened = time.monotonic()
        reader, writer = await asyncio.open_connection(attack.host, attack.port)
        head = "POST /api/orders HTTP/1.1\r\nhost: shop\r\ncontent-type: application/json\r\n"
        writer.write(f"{head}content-length: {BODY_BYTES}\r\n\r\n".encode())
        answer = asyncio.create_task(_until_closed(reader, GIVE_UP_AFTER))
        with contextlib.suppress(OSError):
            for _ in range(BODY_BYTES // BODY_CHUNK):
                if answer.done():
                    break
                writer.write(b" " * BODY_CHUNK)
                await asyncio.sleep(1.0)
        received = await answer
        attack.lived("body", opened, (received or b"").split(b"\r\n", 1)[0])
        writer.close()


async def _probe(client: Requester, product_id: int, seconds: float) -> list[Outcome]:
    async def read(http: Requester) -> httpx.Response:
        return await http.get(f"/api/products/{product_id}")

    return await open_loop(client, lambda _: ("product", read), rate=PROBE_RATE, seconds=seconds)


async def _fds_back(pid: int, baseline: int) -> float:
    started = time.monotonic()
    while open_fds(pid) > baseline + FD_SLACK:
        assert time.monotonic() - started < FDS_BACK_WITHIN, (
            f"fds {open_fds(pid)} against a baseline of {baseline}"
        )
        await asyncio.sleep(0.5)
    return time.monotonic() - started


@pytest.mark.reliability
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
async def test_slow_clients_hold_nothing(server: str, postgres_admin: str, tmp_path: Path) -> None:
    raise_fd_limit(8192)  # ours: the attack's 1,000 sockets; the server inherits it
    async with scratch_postgres(postgres_admin) as url:
        log = tmp_path / "shop.log"
        with served_shop_process(url, log, server=server) as (base_url, process):
            client = FreshConnections(base_url)
            async with httpx.AsyncClient(base_url=base_url) as http:
                product_id = (await http.get("/api/products")).json()["items"][0]["id"]
            warm = await _probe(client, product_id, 2.0)
            baseline = open_fds(process.pid)
            attack = Attack(client.host, client.port, time.monotonic() + ATTACK_SECONDS)
            clients = [
                *(
                    _header_client(attack, RAMP_SECONDS * i / HEADER_CLIENTS)
                    for i in range(HEADER_CLIENTS)
                ),
                *(
                    _body_client(attack, RAMP_SECONDS * i / BODY_CLIENTS)
                    for i in range(BODY_CLIENTS)
                ),
            ]
            attackers = asyncio.gather(*clients)
            await asyncio.sleep(RAMP_SECONDS + 1)
            fds_under_attack = open_fds(process.pid)
            probed = await _probe(client, product_id, ATTACK_SECONDS - RAMP_SECONDS - 1)
            await attackers
            fds_back_after = await _fds_back(process.pid, baseline)

    outcomes = probed
    header_max = max(attack.lifetimes["header"])
    body_max = max(attack.lifetimes["body"])
    figures = {
        "server": server,
        "probe": statuses(outcomes),
        "probe_p99_ms": round(p99(outcomes) * 1000, 1),
        "probe_p99_before_ms": round(p99(warm) * 1000, 1),
        "header_connections": len(attack.lifetimes["header"]),
        "header_lifetime_max_s": round(header_max, 2),
        "body_connections": len(attack.lifetimes["body"]),
        "body_lifetime_max_s": round(body_max, 2),
        "answers": attack.answers,
        "fds_baseline": baseline,
        "fds_under_attack": fds_under_attack,
        "fds_back_after_s": round(fds_back_after, 1),
    }
    record(f"slow_clients_{server}", figures)
    assert statuses(outcomes) == {"200": len(outcomes)}
    assert p99(outcomes) <= PROBE_P99_LIMIT
    assert header_max <= CLOSED_WITHIN
    assert body_max <= CLOSED_WITHIN
    # The attack held its connections at once: the limit never refused it.
    assert fds_under_attack >= baseline + HEADER_CLIENTS
