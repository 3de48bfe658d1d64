"""Keeps secrets out of log lines: values under sensitive keys are replaced, and free text
(messages, exception text) has bearer tokens, JWT-shaped strings, URL passwords, `password=...`
pairs and the process's own secret values masked. Not for: the access line, whose fields are
fixed and hold no free text (it is not scanned, to stay cheap), or HTTP answers."""

import re
from collections.abc import Iterable, Mapping

MASK = "[REDACTED]"
# Short literals would mask ordinary words; real secrets here are far longer.
MIN_SECRET_LENGTH = 8

_SENSITIVE_KEY = re.compile(
    r"passw|passwd|\bpwd\b|secret|token|authori[sz]ation|api[-_]?key|cookie|credential|"
    r"private[-_]?key",
    re.IGNORECASE,
)
# One pass over the text: each alternative keeps its harmless prefix in a group.
_SECRET_TEXT = re.compile(
    # scheme://user:PASSWORD@host (the port of host:port is not followed by "@")
    r"(?P<url>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+(?=@)"
    # Authorization: Bearer <token>, Basic <credentials>, password="..." and the like
    r"|(?P<pair>[\w-]*(?:passw|secret|token|authori[sz]ation|api[-_]?key|cookie|credential)"
    r"[\w-]*['\"]?\s*[:=]\s*)"
    r"(?:\"[^\"\n]*\"|'[^'\n]*'|(?:(?:Bearer|Basic|Token)\s+)?[^\s'\",;&})\]]+)"
    r"|(?P<scheme>\b(?:Bearer|Basic)\s+)[A-Za-z0-9\-._~+/]+=*"
    # header.payload.signature: a JWT's header is base64url JSON, so it starts with "eyJ"
    r"|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
    re.IGNORECASE,
)
_SCALARS = (int, float, bool, type(None))


def _mask(match: re.Match[str]) -> str:
    prefix = match.group("url") or match.group("pair") or match.group("scheme") or ""
    return prefix + MASK


class Redactor:
    """`secrets`: literal values to mask wherever they appear (the signing key, passwords
    from the settings)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = {value for value in secrets if len(value) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret containing another is masked whole.
        self.secrets = tuple(sorted(unique, key=len, reverse=True))

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return _SECRET_TEXT.sub(_mask, value)

    def fields(self, fields: Mapping[str, object]) -> dict[str, object]:
        return {key: self._value(str(key), value) for key, value in fields.items()}

    def _value(self, key: str, value: object) -> object:
        if _SENSITIVE_KEY.search(key):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, _SCALARS):
            return value
        if isinstance(value, Mapping):
            return self.fields(value)
        if isinstance(value, list | tuple | set | frozenset):
            return [self._value(key, item) for item in value]
        # Anything else is logged as its text, which is scanned like a message.
        return self.text(str(value))
