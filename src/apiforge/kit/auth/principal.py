"""Who is calling, as proven by a verified access token: no database involved."""

from dataclasses import dataclass

_MAX_ROW_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling and what they may do: the verified token's `subject` (a user id, as a
    string), `role` and `scopes`."""

    subject: str
    role: str
    scopes: frozenset[str] = frozenset()

    @property
    def id(self) -> int:
        """Numeric subject, for services whose subjects are row ids (tokens the service
        issued itself); `ValueError` for any other subject."""
        return int(self.subject)

    @property
    def row_id(self) -> int | None:
        """The subject as a positive bigint row id, or None when it is not one (a subject
        from another issuer must not reach a query as an out-of-range integer)."""
        subject = self.subject
        if not (subject.isdecimal() and len(subject) < 20):
            return None
        value = int(subject)
        return value if 1 <= value <= _MAX_ROW_ID else None
