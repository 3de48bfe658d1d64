"""Who is calling, as proven by a verified credential (an access token of ours, an API key, a
token of a trusted external issuer): no database involved. Not for: loading the user row."""

from dataclasses import dataclass

_MAX_ROW_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling and what they may do.

    - `subject`: the user id (a string) a token speaks for; an API key's is `key:<key_id>`.
    - `role`: the platform role of a user (`admin`, `customer`, ...); empty for an API key.
    - `scopes`: what an API key may do. A user's token is not scope-limited: `has_scope`
      is true for any scope (roles decide what users may do).
    - `tenant_id`: the tenant (organization) an API key acts for; None for users, whose
      tenant is the one the route names (`kit.tenancy`).
    - `api_key_id`, `issuer`: set for an API key, and for a token of an external issuer.
    - `generation`: the user's token generation when the token was issued; a token of an
      older generation is refused (logout everywhere, a password change)."""

    subject: str
    role: str
    scopes: frozenset[str] = frozenset()
    tenant_id: int | None = None
    api_key_id: str | None = None
    issuer: str | None = None
    generation: int = 0

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None

    def has_scope(self, scope: str) -> bool:
        """Whether this principal's credential allows `scope`: always for a user's token,
        only a granted scope for an API key."""
        return self.api_key_id is None or scope in self.scopes

    @property
    def id(self) -> int:
        """Numeric subject, for services whose subjects are row ids (tokens the service
        issued itself); `ValueError` for any other subject (an API key's)."""
        return int(self.subject)

    @property
    def row_id(self) -> int | None:
        """The subject as a positive bigint row id, or None when it is not one (an API
        key, or a subject that must not reach a query as an out-of-range integer)."""
        subject = self.subject
        if not (subject.isdecimal() and len(subject) < 20):
            return None
        value = int(subject)
        return value if 1 <= value <= _MAX_ROW_ID else None
