"""Who is calling, as proven by a verified access token: no database involved."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: str
    scopes: frozenset[str] = frozenset()

    @property
    def id(self) -> int:
        """Numeric subject, for services whose subjects are row ids."""
        return int(self.subject)
