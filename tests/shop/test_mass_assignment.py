"""Mass assignment (OWASP API3, property level): a request body that carries a field its schema
does not name (`role`, `organization_id`, `status`, `total`, `is_active`, `user_id`, ...) is a
422, and nothing changes in the database, every table's rows compared before and after. Each
operation that takes a JSON body is tried, from the OpenAPI document, as a caller the policy
table allows, with a body that succeeds without the smuggled field (the matrix proves it),
the field put at every depth of the body (the lines of an order too), on both databases."""

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Base, app_state, cross_tenant
from tests.shop.matrix import policy as p
from tests.shop.matrix.calls import CALLS, Call, resolve, send
from tests.shop.matrix.shapes import Shapes
from tests.shop.matrix.world import World, build_world

# Limits are not what these are about (their own tests are test_ratelimits.py).
pytestmark = [pytest.mark.committed, pytest.mark.usefixtures("unlimited")]


def smuggled(world: World) -> dict[str, Any]:
    """Fields a client must never set, each with a value an attacker would want."""
    return {
        "id": world.order_of_a,
        "role": "admin",
        "organization_id": world.org_b,
        "tenant_id": world.org_b,
        "user_id": world.victim,
        "created_by": world.victim,
        "status": "cancelled",
        "total": "0.01",
        "price_minor": 1,
        "unit_price": "0.01",
        "is_active": False,
        "is_archived": True,
        "password_hash": "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
        "secret_digest": "0" * 64,
        "token_generation": 0,
        "key": "afk_000000000000_" + "A" * 43,
        "api_key_id": "000000000000",
        "revoked_at": None,
        "created_at": "2020-01-01T00:00:00Z",
    }


def objects_in(
    value: Any, schema: dict[str, Any], shapes: Shapes, at: tuple[Any, ...] = ()
) -> list[tuple[tuple[Any, ...], set[str]]]:
    """Each object of the body with the field names its schema allows (its place, names)."""
    schema = shapes.resolve(schema)
    if isinstance(value, list):
        return [
            found
            for i, item in enumerate(value)
            for found in objects_in(item, schema.get("items", {}), shapes, (*at, i))
        ]
    if not isinstance(value, dict):
        return []
    properties: dict[str, Any] = schema.get("properties", {})
    found = [(at, set(properties))]
    for name, item in value.items():
        found += objects_in(item, properties.get(name, {}), shapes, (*at, name))
    return found


def with_field(body: Any, at: tuple[Any, ...], name: str, value: Any) -> Any:
    if not at:
        return {**body, name: value}
    copy = list(body) if isinstance(body, list) else dict(body)
    copy[at[0]] = with_field(body[at[0]], at[1:], name, value)
    return copy


def body_of(call: Call) -> Any:
    return call.json if call.content is None else json.loads(call.content)


def sent_with(call: Call, body: Any) -> Call:
    if call.content is None:
        return replace(call, json=body)
    return replace(call, content=json.dumps(body).encode())


def request_schema(shapes: Shapes, case: str) -> dict[str, Any] | None:
    method, path = p.operation_of(case).split(" ")
    operation = shapes.document["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    schema: dict[str, Any] | None = content.get("application/json", {}).get("schema")
    return schema


async def every_row(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    rows = {}
    for table in Base.metadata.sorted_tables:
        statement = cross_tenant(select(table), reason="a test compares every row")
        found = (await session.execute(statement.order_by(*table.primary_key.columns))).all()
        rows[table.name] = [tuple(row) for row in found]
    await session.commit()
    return rows


async def test_smuggled_fields_are_refused_and_change_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_world(app, client, session)
    shapes = Shapes(app.openapi())
    fields = smuggled(world)
    attempts: list[tuple[str, str, str, Call]] = []
    for case in p.cases_in_order(shapes.document):
        schema = request_schema(shapes, case)
        if schema is None:
            continue
        caller = next(c for c in p.CALLERS if p.POLICY[case].expect(c) == p.ALLOWED)
        call = await resolve(world, CALLS[case](world, world.callers[caller]))
        body = body_of(call)
        for at, allowed in objects_in(body, schema, shapes):
            for name in sorted(set(fields) - allowed):
                attempt = sent_with(call, with_field(body, at, name, fields[name]))
                attempts.append((case, caller, ".".join(map(str, (*at, name))), attempt))
    await app_state(app).identity.usage.flush()  # last-used stamps of the set-up's keys
    before = await every_row(session)

    accepted = []
    for case, caller, field, call in attempts:
        response = await send(world, case, caller, call)
        if response.status_code != 422 or field.rsplit(".", 1)[-1] not in response.text:
            accepted.append(f"{case} with {field}: {response.status_code} {response.text[:160]}")

    assert not accepted, "\n".join(accepted)
    assert await every_row(session) == before
    operations = {case for case, *_ in attempts}
    assert len(operations) >= 17  # each operation with a JSON body
    assert len(attempts) >= 17 * 15
    problems = [m for answer in world.answers for m in shapes.problems(answer, world.secrets)]
    assert not problems, "\n".join(problems)
