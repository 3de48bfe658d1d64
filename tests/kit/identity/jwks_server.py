"""An external identity provider for tests, real enough to be trusted by the kit: its keys are
generated here, its JWKS is served over real HTTP on a loopback port (a thread running
`http.server`), and every fetch is counted. Also the ways an issuer fails: a port nothing
listens on, a socket that accepts and never answers, one that answers a byte at a time."""

import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

from apiforge.bench.targets import free_port
from apiforge.kit import ExternalIssuerSettings
from apiforge.kit.identity.issuers import ExternalIssuers
from apiforge.kit.settings import ExternalAlgorithm
from tests.kit.auth.keys import ed25519_key, p256_key, rsa_key

JWKS_PATH = "/jwks.json"
ALL: list[ExternalAlgorithm] = ["RS256", "ES256", "EdDSA"]
_KEY_MAKERS = {"RS256": rsa_key, "ES256": p256_key, "EdDSA": ed25519_key}


@dataclass
class Answer:
    """What the server answers to a JWKS request: `status` and `body` (JSON of `document`
    unless `raw` is set)."""

    document: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    status: int = 200
    raw: bytes | None = None

    def body(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.document).encode()


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.hits += 1
            answer = self.server.answer
            body = answer.body()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the hit count, not stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.hits = 0
        self.answer = Answer()


class IdentityProvider:
    """An issuer (`iss`) with its own keys: `add_key(alg)` makes one and publishes the JWKS
    of every key added (`publish=False` keeps it unpublished); `token(kid, **claims)` signs
    a token whose claims default to valid ones; `hits` counts JWKS fetches."""

    def __init__(self, server: _Server, issuer: str, audience: str) -> None:
        self._server = server
        self.issuer = issuer
        self.audience = audience
        self.keys: dict[str, tuple[str, Any]] = {}
        self.published: list[str] = []

    @property
    def jwks_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{JWKS_PATH}"

    @property
    def hits(self) -> int:
        with self._server.lock:
            return self._server.hits

    def answer(self, answer: Answer) -> None:
        with self._server.lock:
            self._server.answer = answer

    def add_key(self, algorithm: str, *, kid: str | None = None, publish: bool = True) -> str:
        private = _KEY_MAKERS[algorithm]()
        # Unique across providers: a kid of one issuer must not name a key of another.
        kid = kid or f"{algorithm.lower()}-{secrets.token_hex(4)}"
        self.keys[kid] = (algorithm, private)
        if publish:
            self.published.append(kid)
            self.publish()
        return kid

    def public_jwk(self, kid: str) -> dict[str, Any]:
        algorithm, private = self.keys[kid]
        jwk: dict[str, Any] = jwt.get_algorithm_by_name(algorithm).to_jwk(
            private.public_key(), as_dict=True
        )
        return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}

    def publish(self, *kids: str) -> None:
        """Serve the JWKS of `kids` (default: every published key)."""
        if kids:
            self.published = list(kids)
        self.answer(Answer({"keys": [self.public_jwk(kid) for kid in self.published]}))

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "user-1",
            "iat": now,
            "exp": now + 300,
            "email": "ext-user@example.com",
            "email_verified": True,
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, kid: str, *, headers: dict[str, Any] | None = None, **changes: Any) -> str:
        algorithm, private = self.keys[kid]
        return jwt.encode(
            self.claims(**changes),
            private,
            algorithm=algorithm,
            headers={"kid": kid, **(headers or {})},
        )


@contextmanager
def identity_provider(
    issuer: str = "https://idp.test", audience: str = "apiforge-api"
) -> Iterator[IdentityProvider]:
    """An `IdentityProvider` whose JWKS is served on a free loopback port while the block runs."""
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield IdentityProvider(server, issuer, audience)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_url() -> str:
    """A JWKS URL on a port nothing listens on (the issuer is down)."""
    return f"http://127.0.0.1:{free_port()}{JWKS_PATH}"


@contextmanager
def hanging_url() -> Iterator[str]:
    """A JWKS URL whose server accepts connections (the kernel does, from the backlog) and
    never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        port = listener.getsockname()[1]
        yield f"http://127.0.0.1:{port}{JWKS_PATH}"


@contextmanager
def trickling_url(every_seconds: float) -> Iterator[str]:
    """A JWKS URL whose server answers one byte of a never-ending header every
    `every_seconds`: each read is quick, the answer never complete."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    listener.settimeout(0.05)

    def serve() -> None:
        clients: list[socket.socket] = []
        try:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                    clients.append(conn)
                    conn.sendall(b"HTTP/1.1 200 OK\r\n")
                except TimeoutError:
                    pass
                for conn in list(clients):
                    try:
                        conn.sendall(b"X")
                    except OSError:
                        clients.remove(conn)
                stop.wait(every_seconds)
        finally:
            for conn in clients:
                conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}{JWKS_PATH}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def issuer_settings(idp: IdentityProvider, **overrides: Any) -> ExternalIssuerSettings:
    values: dict[str, Any] = {
        "issuer": idp.issuer,
        "audience": idp.audience,
        "jwks_url": idp.jwks_url,
        "algorithms": ALL,
    }
    return ExternalIssuerSettings(**(values | overrides))


async def verify(issuers: ExternalIssuers, token: str) -> dict[str, Any]:
    keys = issuers.match(token)
    assert keys is not None, "the token should name a configured issuer"
    return await issuers.verify(keys, token)
