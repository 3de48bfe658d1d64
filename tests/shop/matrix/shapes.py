"""Every answer against the OpenAPI document the service publishes: its status is one the
operation documents, a refusal is problem+json (a 401 with a `WWW-Authenticate` challenge),
and each JSON object carries exactly the fields its schema names, no more (a `password_hash`
or a `secret_digest` would be one more) and none of the required ones less. Plus what no
answer may carry at all: an API key, except in the one answer that creates it."""

import re
from collections.abc import Iterator
from typing import Any

import httpx

JSON_TYPES = ("application/json", "application/problem+json")
# Fields no answer has, whatever its schema says (a refusal may name one a client sent: as a
# place in `errors`, not as a field), and the mark of a password hash.
NEVER_A_FIELD = {"password_hash", "secret_digest", "token_generation"}
HASH_MARK = "$argon2"
# Known gaps between answers and the document, each let be with its reason: an answer
# documented as any JSON at all (an empty schema), and fields an answer carries beyond its
# schema. None left: the readiness body and an import error's `line` are documented now.
ANY_JSON: dict[str, str] = {}
BEYOND_SCHEMA: dict[str, set[str]] = {}


class Shapes:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path.count("{"), path)
            for path in document["paths"]
        ]

    def template(self, request: httpx.Request) -> str | None:
        """The documented path serving `request` (a literal segment wins over a parameter,
        as the router has it: /products/search is not /products/{product_id})."""
        path = request.url.path
        matches = sorted((params, tmpl) for rx, params, tmpl in self._routes if rx.match(path))
        return matches[0][1] if matches else None

    def operation(self, request: httpx.Request) -> dict[str, Any] | None:
        template = self.template(request)
        if template is None:
            return None
        found: dict[str, Any] | None = self.document["paths"][template].get(request.method.lower())
        return found

    def problems(self, response: httpx.Response, secrets: set[str]) -> list[str]:
        request = response.request
        where = f"{request.method} {request.url.path} -> {response.status_code}"
        operation = self.operation(request)
        if operation is None:
            return [f"{where}: not in the OpenAPI document"]
        found = [f"{where}: {problem}" for problem in self._answer(operation, response)]
        text = response.text
        if HASH_MARK in text:
            found.append(f"{where}: the body shows a password hash")
        if response.content and media_of(response) in JSON_TYPES:
            leaked = sorted(NEVER_A_FIELD & set(_field_names(response.json())))
            found += [f"{where}: the body has a {name} field" for name in leaked]
        shown = {secret for secret in secrets if secret in text}
        if shown and not _creates(response, shown):
            found.append(f"{where}: the body shows an API key")
        return found

    def _answer(self, operation: dict[str, Any], response: httpx.Response) -> list[str]:
        documented = operation["responses"].get(str(response.status_code))
        if documented is None:
            return [f"status not documented ({sorted(operation['responses'])})"]
        media = media_of(response)
        found = _refusal_form(response, media)
        content: dict[str, Any] = documented.get("content", {})
        if not response.content:
            return found
        if media not in content:
            return [*found, f"a {media} answer, documented as {sorted(content)}"]
        schema = content[media].get("schema")
        request = response.request
        key = f"{request.method} {self.template(request)} {response.status_code}"
        if media not in JSON_TYPES or (schema == {} and key in ANY_JSON):
            return found
        if schema is None:
            return [*found, f"{media} answer with no documented schema"]
        tolerated = BEYOND_SCHEMA.get(key, set())
        return found + self.mismatches(response.json(), schema, "body", tolerated)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.document["components"]["schemas"][name]
        return schema

    def mismatches(
        self, value: Any, schema: dict[str, Any], where: str, tolerated: set[str] | None = None
    ) -> list[str]:
        """How `value` strays from `schema`'s object fields (names, at every depth; fields
        named in `tolerated` may be there too)."""
        schema, tolerated = self.resolve(schema), tolerated or set()
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            tries = [self.mismatches(value, alt, where, tolerated) for alt in alternatives]
            return min(tries, key=len)
        if schema.get("type") == "null":
            return [] if value is None else [f"{where}: expected null"]
        if isinstance(value, list):
            items = schema.get("items")
            if schema.get("type") != "array" or items is None:
                return [f"{where}: an array where the schema has {schema.get('type')}"]
            return [
                m
                for i, item in enumerate(value)
                for m in self.mismatches(item, items, f"{where}[{i}]", tolerated)
            ]
        if not isinstance(value, dict):
            return []
        return self._object(value, schema, where, tolerated)

    def _object(
        self, value: dict[str, Any], schema: dict[str, Any], where: str, tolerated: set[str]
    ) -> list[str]:
        properties: dict[str, Any] | None = schema.get("properties")
        if properties is None:
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                return [
                    m
                    for k, v in value.items()
                    for m in self.mismatches(v, extra, f"{where}.{k}", tolerated)
                ]
            return [] if schema.get("type") == "object" else [f"{where}: an object, not documented"]
        found = []
        unexpected = sorted(set(value) - set(properties) - tolerated)
        if unexpected:
            found.append(f"{where}: fields outside the schema {unexpected}")
        missing = sorted(set(schema.get("required", ())) - set(value))
        if missing:
            found.append(f"{where}: required fields missing {missing}")
        for name, item in value.items():
            if name in properties:
                found += self.mismatches(item, properties[name], f"{where}.{name}", tolerated)
        return found


def media_of(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";")[0]


def _field_names(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield name
            yield from _field_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _field_names(item)


def _refusal_form(response: httpx.Response, media: str) -> list[str]:
    found = []
    if response.status_code >= 400 and media != "application/problem+json":
        found.append(f"a refusal as {media!r}, not problem+json")
    if response.status_code == 401 and not response.headers.get("www-authenticate"):
        found.append("a 401 without WWW-Authenticate")
    return found


def _creates(response: httpx.Response, shown: set[str]) -> bool:
    """Whether the answer is the creation of the one key it shows, in its `key` field."""
    if response.headers.get("content-type") != "application/json" or len(shown) != 1:
        return False
    body = response.json()
    return isinstance(body, dict) and body.get("key") in shown and response.status_code == 201
