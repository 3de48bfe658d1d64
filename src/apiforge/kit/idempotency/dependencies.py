"""`Idempotent`: the dependency a non-idempotent POST opts into. With an `Idempotency-Key` header,
the first request runs and its answer (errors included, but not 5xx or 429) is stored in the
same transaction as its work; a retry with the same key and body gets that answer replayed
(`Idempotent-Replayed: true`), one with another body 422, one while the first still runs 409.
Keys are scoped per principal."""

import hashlib
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.db.database import Database
from apiforge.kit.db.session import WriteSession
from apiforge.kit.db.unit_of_work import commits_on_error
from apiforge.kit.errors import AppError
from apiforge.kit.idempotency.errors import (
    IdempotencyInProgressError,
    IdempotencyKeyInvalidError,
    IdempotencyKeyMissingError,
    IdempotencyKeyReusedError,
)
from apiforge.kit.idempotency.store import (
    Claimed,
    IdempotencyStore,
    InFlight,
    Mismatch,
    StoredAnswer,
)
from apiforge.kit.identity.dependencies import CurrentPrincipal
from apiforge.kit.problems import PROBLEM_CONTENT_TYPE, problem_body
from apiforge.kit.state import app_config, app_state

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"[!-~]{1,255}")  # printable ASCII, no spaces


class IdempotentReplay(Exception):  # noqa: N818  # a signal carrying the answer, not an error
    """Raised before the route runs when its answer is already stored: the kit answers it."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("replayed")
        self.answer = answer


def replay_response(answer: StoredAnswer) -> Response:
    headers = {**answer.headers, REPLAYED_HEADER: "true"}
    return Response(answer.body, status_code=answer.status, headers=headers)


@dataclass
class IdempotencyContext:
    """What the route answers through: `return await idempotency.respond(201, model)`
    stores the answer with the request's work (when a key was given) and returns it."""

    session: AsyncSession
    store: IdempotencyStore | None = None
    claim: Claimed | None = None
    answered: bool = False

    async def respond(
        self, status: int, payload: BaseModel | bytes, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = payload if isinstance(payload, bytes) else payload.model_dump_json().encode()
        answer = StoredAnswer(status, {"content-type": "application/json", **(headers or {})}, body)
        if not await self._store_answer(answer):
            raise IdempotencyInProgressError("This key was taken over by a retry.")
        self.answered = True
        return Response(body, status_code=status, headers=answer.headers)

    async def _store_answer(self, answer: StoredAnswer) -> bool:
        """With the request's work, when a key was claimed; False if the claim was lost."""
        if self.store is None or self.claim is None:
            return True
        return await self.store.complete(self.session, self.claim, answer)


def _fingerprint(request: Request, body: bytes) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path_format", request.url.path)
    digest = hashlib.sha256(f"{request.method}\0{path}\0".encode())
    digest.update(body)
    return digest.hexdigest()


def _refusal(exc: AppError) -> StoredAnswer:
    body = problem_body(
        status=exc.status, code=exc.code, detail=exc.detail, title=exc.title, extra=exc.extra
    )
    headers = {"content-type": PROBLEM_CONTENT_TYPE}
    challenge = getattr(exc, "www_authenticate", None)
    if exc.status == 401 and challenge:
        headers["www-authenticate"] = challenge
    return StoredAnswer(exc.status, headers, body)


async def idempotency(
    request: Request, session: WriteSession, principal: CurrentPrincipal
) -> AsyncIterator[IdempotencyContext]:
    """The dependency behind `Idempotent`."""
    state = app_state(request.app)
    store = _store(request)
    key = _key(request, required=state.settings.idempotency.required)
    if key is None or store is None:
        yield IdempotencyContext(session)
        return
    database = state.database
    fingerprint = _fingerprint(request, await request.body())
    outcome = await store.claim(database, principal.subject, key, fingerprint)
    if isinstance(outcome, StoredAnswer):
        raise IdempotentReplay(outcome)
    if isinstance(outcome, InFlight):
        raise IdempotencyInProgressError("A request with this key is still running.")
    if isinstance(outcome, Mismatch):
        raise IdempotencyKeyReusedError("This key was already used for another request.")
    context = IdempotencyContext(session, store, outcome)
    try:
        yield context
    except BaseException as exc:
        await _settle_failure(session, database, store, outcome, exc)
        raise
    if not context.answered:
        await _settle_failure(session, database, store, outcome, None)
        raise RuntimeError("an Idempotent route must answer through `respond()`")


async def _settle_failure(
    session: AsyncSession,
    database: Database,
    store: IdempotencyStore,
    claim: Claimed,
    exc: BaseException | None,
) -> None:
    """A refusal (4xx but 429) is the key's answer; anything else frees the key for a retry.
    Written with the request's work when that is kept (`commit_on_error`), else after rolling
    the request back first: on SQLite a second writer would wait on the request's own lock."""
    answer = (
        _refusal(exc)
        if isinstance(exc, AppError) and exc.status < 500 and exc.status != 429
        else None
    )
    if isinstance(exc, AppError) and commits_on_error(session):
        await (store.complete(session, claim, answer) if answer else store.release(session, claim))
        return
    await session.rollback()
    if answer is not None:
        await store.complete_alone(database, claim, answer)
    else:
        await store.release_alone(database, claim)


def _key(request: Request, *, required: bool) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        if required:
            raise IdempotencyKeyMissingError(f"This route needs an `{HEADER}` header.")
        return None
    if not _KEY.fullmatch(key):
        raise IdempotencyKeyInvalidError(
            f"`{HEADER}` must be 1-255 printable ASCII characters without spaces."
        )
    return key


def _store(request: Request) -> IdempotencyStore | None:
    model = app_config(request.app).idempotency_keys
    if model is None:
        return None
    settings = app_state(request.app).settings.idempotency
    return IdempotencyStore(
        model, lease_seconds=settings.lease_seconds, ttl_seconds=settings.ttl_seconds
    )


Idempotent = Annotated[IdempotencyContext, Depends(idempotency, scope="function")]
Idempotent.__doc__ = """Opt a non-idempotent route into `Idempotency-Key` (IETF draft,
Stripe's semantics): answer with `return await idempotency.respond(status, model)`. Needs
`create_app(idempotency_keys=YourIdempotencyKey)`; `settings.idempotency.required` makes the
header mandatory (400 without it)."""


async def answer_replay(request: Request, exc: Exception) -> Response:
    """The exception handler that sends a replayed answer."""
    if not isinstance(exc, IdempotentReplay):  # registered for this type only
        raise exc
    return replay_response(exc.answer)
