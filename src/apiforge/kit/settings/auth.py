"""The `auth` section: token signing and lifetimes, API keys, trusted external issuers and
password hashing. Not for: using any of it (kit.auth and kit.identity do)."""

from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator

ExternalAlgorithm = Literal["RS256", "ES256", "EdDSA"]


class ExternalIssuerSettings(BaseModel):
    """A trusted external identity provider whose access tokens the service accepts
    (resource-server mode). Keys come from its JWKS (`jwks_url`, by default
    `<issuer>/.well-known/jwks.json`), fetched with timeouts, cached, and fetched again on an
    unknown `kid` at most once per `auth.jwks_min_refresh_seconds`. Only asymmetric
    algorithms are accepted from it; `iss`, `aud`, `exp` and `sub` are required. The
    principal's role is the first of `roles` found in the `roles_claim`, else
    `default_role`."""

    issuer: str = Field(min_length=1, max_length=500)
    audience: str = Field(min_length=1, max_length=500)
    jwks_url: str | None = None
    algorithms: list[ExternalAlgorithm] = Field(
        default_factory=lambda: list[ExternalAlgorithm](["RS256"]), min_length=1
    )
    roles_claim: str = Field(default="roles", min_length=1)
    # Roles this issuer may grant, in order of preference; any other value in the claim is
    # ignored (an identity provider cannot invent a role the service does not know).
    roles: list[str] = Field(default_factory=list)
    default_role: str = Field(default="user", min_length=1)
    email_claim: str = Field(default="email", min_length=1)
    # An address the issuer has not verified (its `email_verified` claim not true) is not
    # given to the service: whoever typed it could take a local user's address.
    require_verified_email: bool = True

    @property
    def keys_url(self) -> str:
        return self.jwks_url or f"{self.issuer.rstrip('/')}/.well-known/jwks.json"


# Symmetric algorithms sign with the secret key; asymmetric ones with `auth.signing_keys`.
SYMMETRIC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})


class AuthSettings(BaseModel):
    """Access tokens, refresh tokens, API keys, external issuers and password hashing.
    `issuer` and `audience` default from the service name (`<name>`, `<name>-api`).
    `token_url`: the service's OAuth2 password-flow endpoint, for the docs' Authorize button
    (None: a plain bearer field).

    Signing: HS256 with the secret key by default. With `EdDSA` or `ES256`, tokens are
    signed with the first of `signing_keys` (PEM private keys) and carry its `kid`; every
    key in the list still verifies (rotate by putting the new key first and dropping the old
    one once its tokens have expired), and `/.well-known/jwks.json` publishes the public
    keys so other services can verify without the secret."""

    algorithm: Literal["HS256", "HS384", "HS512", "EdDSA", "ES256"] = "HS256"
    signing_keys: list[SecretStr] = Field(default_factory=list)
    issuer: str = Field(default="apiforge", min_length=1)
    audience: str = Field(default="apiforge-api", min_length=1)
    token_url: str | None = None
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=900)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    # Clock skew tolerated on exp/nbf/iat, ours and external issuers' alike.
    leeway_seconds: int = Field(default=10, ge=0, le=300)
    # API keys look like `<prefix>_<id>_<secret>`: a prefix secret scanners can match.
    api_key_prefix: str = Field(default="afk", pattern=r"^[a-z]{2,8}$")
    # How long an identity lookup (token generation, API key, membership, external subject)
    # is kept in the shared cache; changes invalidate it at once in every worker.
    lookup_ttl_seconds: float = Field(default=60.0, gt=0, le=3600)
    external_issuers: list[ExternalIssuerSettings] = Field(default_factory=list)
    jwks_min_refresh_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Bounds a whole JWKS fetch (connect to last byte): a request waits at most this long
    # for an issuer that is slow or hangs, then answers 401 auth.issuer_unavailable.
    jwks_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    # OWASP's minimum for argon2id: m=19 MiB, t=2, p=1.
    argon2_memory_kib: int = Field(default=19456, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)

    @property
    def is_symmetric(self) -> bool:
        return self.algorithm in SYMMETRIC_ALGORITHMS

    @model_validator(mode="after")
    def _keys_for_the_algorithm(self) -> Self:
        if not self.is_symmetric and not self.signing_keys:
            raise ValueError(
                f"auth.algorithm {self.algorithm} signs with auth.signing_keys: give at least "
                "one PEM private key of that type (the first signs, all verify)"
            )
        return self
