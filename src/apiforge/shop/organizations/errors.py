"""Organizations errors, each with a stable code."""

from apiforge.kit import ConflictError, NotFoundError, PermissionDeniedError


class MemberNotFoundError(NotFoundError):
    code = "organizations.member_not_found"


class UnknownUserError(NotFoundError):
    """No account has that email: a member must register before being added."""

    code = "organizations.unknown_user"


class AlreadyMemberError(ConflictError):
    code = "organizations.already_member"


class LastOwnerError(ConflictError):
    """The organization's only owner cannot leave or be demoted: make another owner first."""

    code = "organizations.last_owner"


class RoleTooHighError(PermissionDeniedError):
    """Nobody grants a role above their own, or changes a member who outranks them."""

    code = "organizations.role_too_high"
