"""Identity at request time: which credential a request carries and who it proves (our JWTs,
API keys, external issuers' tokens), with revocation, from cached lookups the service answers
through its `IdentityStore`. Not for: token or key primitives (kit.auth) or tenancy rules
(kit.tenancy)."""

from apiforge.kit.identity.issuers import ExternalIssuers, IssuerUnavailableError
from apiforge.kit.identity.resolver import Identity, membership_tag, subject_tag
from apiforge.kit.identity.store import (
    ExternalIdentity,
    IdentityStore,
    IdentityStoreFactory,
    StoredApiKey,
    SubjectState,
)

__all__ = [
    "ExternalIdentity",
    "ExternalIssuers",
    "Identity",
    "IdentityStore",
    "IdentityStoreFactory",
    "IssuerUnavailableError",
    "StoredApiKey",
    "SubjectState",
    "membership_tag",
    "subject_tag",
]
