"""Keeps secrets out of log lines: values under sensitive keys are replaced, and free text
(messages, exception text) has bearer tokens, JWT-shaped strings, URL passwords, `password=...`
pairs and the process's own secret values masked. Not for: the access line, whose fields are
fixed and hold no free text (it is not scanned, to stay cheap), or HTTP answers."""

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

MASK = "[REDACTED]"
# Short literals would mask ordinary words; real secrets here are far longer.
MIN_SECRET_LENGTH = 8

# Searched in the lowercased key: cheaper than a case-insensitive pattern.
_SENSITIVE_KEY = re.compile(
    r"passw|\bpwd\b|secret|token|authori[sz]ation|api[-_]?key|cookie|credential|private[-_]?key"
)
_KEYWORDS = r"passw|secret|token|authori[sz]ation|api[-_]?key|cookie|credential"
# (hint, pattern): each pattern keeps its harmless prefix in group 1 and masks what follows. It
# runs only when its hint (a cheap search over the lowercased text) is found: most lines have
# none, and the patterns, case-insensitive ones especially, cost far more.
_RULES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    # scheme://user:PASSWORD@host (the port of host:port is not followed by "@")
    (re.compile("://"), re.compile(r"(://[^\s:/@]*:)[^\s@/]+(?=@)")),
    # password=..., "refresh_token": "...", Authorization: Bearer ..., x-api-key: ...
    (
        re.compile(_KEYWORDS),
        re.compile(
            rf"((?:{_KEYWORDS})[\w-]*['\"]?\s*[:=]\s*)"
            r"(?:\"[^\"\n]*\"|'[^'\n]*'|(?:(?:Bearer|Basic|Token)\s+)?[^\s'\",;&})\]]+)",
            re.IGNORECASE,
        ),
    ),
    (
        re.compile("bearer|basic"),
        re.compile(r"(\b(?:Bearer|Basic)\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE),
    ),
    # header.payload.signature: a JWT's header is base64url JSON, so it starts with "eyJ"
    (re.compile("eyj"), re.compile(r"()\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")),
    # an API key, <prefix>_<lookup id>_<secret>: the prefix and lookup id stay (they name the
    # key, and tell an operator which one was used), the secret goes
    (
        re.compile(r"_[a-z0-9]{12}_"),
        re.compile(r"(\b[a-z]{2,8}_[a-z0-9]{12}_)[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),
    ),
    # a PEM private key (a signing key pasted into a message), to its END line, or, when it
    # was cut short (a preview, a truncated line), to the end of its base64 (the first bytes
    # of an EC or Ed25519 key are the private scalar itself)
    (
        re.compile("private key-----"),
        re.compile(
            r"(-----BEGIN [A-Z ]*PRIVATE KEY-----)"
            r"(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\]*)"
        ),
    ),
)
_ANY_HINT = re.compile("|".join(hint.pattern for hint, _ in _RULES))
_KEEP_PREFIX = r"\g<1>" + MASK
_SCALARS = (int, float, bool, type(None))


@lru_cache(maxsize=1024)  # the same few keys come back on every line
def _sensitive_key(key: str) -> bool:
    return _SENSITIVE_KEY.search(key.lower()) is not None


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
        lowered = value.lower()
        if _ANY_HINT.search(lowered) is None:
            return value
        for hint, pattern in _RULES:
            if hint.search(lowered):
                value = pattern.sub(_KEEP_PREFIX, value)
        return value

    def fields(self, fields: Mapping[str, object]) -> dict[str, object]:
        return {key: self._value(str(key), value) for key, value in fields.items()}

    def _value(self, key: str, value: object) -> object:
        if _sensitive_key(key):
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
