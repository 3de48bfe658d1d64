"""A ladder of tenant roles where each holds the rights of those below it (`viewer` < `buyer`
< `admin` < `owner`, say): data, so a service's roles are a tuple, not code paths."""

from collections.abc import Iterable


class RoleLadder:
    """Roles from the least to the most powerful: `at_least(held, needed)`."""

    def __init__(self, roles: Iterable[str]) -> None:
        self.roles = tuple(roles)
        if len(set(self.roles)) != len(self.roles) or not self.roles:
            raise ValueError("a role ladder needs distinct roles, least powerful first")
        self._rank = {role: rank for rank, role in enumerate(self.roles)}

    def __contains__(self, role: object) -> bool:
        return role in self._rank

    def rank(self, role: str) -> int:
        """The role's height (`KeyError` for a role not on the ladder)."""
        return self._rank[role]

    def at_least(self, held: str | None, needed: str) -> bool:
        """Whether `held` carries the rights of `needed` (an unknown or missing role never
        does)."""
        return held in self._rank and self._rank[held] >= self._rank[needed]

    @property
    def top(self) -> str:
        return self.roles[-1]
