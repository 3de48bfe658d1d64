"""The shop's rate limits, as data: what each counts per, how much, where it is counted and what
it does while Redis is down. Routers and the accounts service name them; settings adjust them by
name (`APIFORGE_RATELIMIT__POLICIES__LOGIN__RATES=10/15min`), `APIFORGE_RATELIMIT__ENABLED=false`
lifts them all.

Where each is counted. Redis (exact across every worker and pod, one round trip) for what an
attacker gains from: guessing passwords, minting accounts and tokens, writes. In process for
reads, where being exact across processes is worth less than a round trip: `requests` and
`catalog` (searches) are counted per worker. Front-cache hits are never limited
(kit.middleware says why), so the cached catalog reads the benchmarks measure pay nothing for
limits.

While Redis is down. Sign-in, token and password policies count in process instead
(`OnFailure.LOCAL`): they must not fail open (that would reopen password guessing for the
length of an outage), and failing closed would lock every user out with Redis; in process,
a guesser gets at most the same few attempts per worker. Registration fails closed: it can
wait a minute, and a bot registering through an outage is what the limit is for. Ordinary
traffic fails open: an outage of the limiter must not become an outage of the shop.
"""

from apiforge.kit import LimitKey, OnFailure, Rate, RateLimitPolicy

LOCAL = OnFailure.LOCAL

# Attempts per account and address (success forgets them): the 6th attempt within the window
# is refused before any password is checked, right or wrong.
LOGIN = RateLimitPolicy("login", Rate.parse_all("5/15min"), LimitKey.CUSTOM, on_failure=LOCAL)
# Attempts per address across accounts (credential stuffing); every attempt also costs an
# argon2 hash, so this bounds the CPU one address can spend.
LOGIN_IP = RateLimitPolicy(
    "login_ip", Rate.parse_all("20/min, 300/h"), LimitKey.CLIENT_IP, on_failure=LOCAL
)
REGISTER = RateLimitPolicy(
    "register", Rate.parse_all("5/min, 20/h"), LimitKey.CLIENT_IP, on_failure=OnFailure.CLOSED
)
# Refresh and logout take a refresh token from anyone: counted per address.
REFRESH = RateLimitPolicy(
    "refresh", Rate.parse_all("30/min, 600/h"), LimitKey.CLIENT_IP, on_failure=LOCAL
)
# Re-authentication with the current password: a stolen access token must not become an
# oracle for the password.
PASSWORD = RateLimitPolicy(
    "password", Rate.parse_all("5/15min"), LimitKey.PRINCIPAL, on_failure=LOCAL
)
WRITES = RateLimitPolicy("writes", Rate.parse_all("20/s, 1000/h"), LimitKey.PRINCIPAL)
# What an organization's API keys may do, each and all together.
API_KEY = RateLimitPolicy("api_key", Rate.parse_all("20/s, 20000/h"), LimitKey.API_KEY)
ORGANIZATION = RateLimitPolicy(
    "organization", Rate.parse_all("50/s, 100000/d"), LimitKey.ORGANIZATION
)
# Every authenticated request, per worker.
REQUESTS = RateLimitPolicy("requests", Rate.parse_all("50/s"), LimitKey.PRINCIPAL, local=True)
# Catalog searches that miss the front cache, per worker and address: free text, so each new
# term misses and runs a pattern search over every product; the reads a client can make
# expensive at will. Generous on purpose: when a popular entry expires, every request in
# flight for it reaches the route at once (the cache loads it once), and such a burst from one
# busy address must fit. (Listings and details are not limited: a miss there is one indexed
# query, a keyset page of at most 100 rows or one product, loaded once per TTL whoever asks;
# a per-address count of them would refuse exactly those expiry bursts.)
CATALOG = RateLimitPolicy("catalog", Rate.parse_all("100/s"), LimitKey.CLIENT_IP, local=True)

# On every router whose routes all need a principal.
AUTHENTICATED = (REQUESTS, API_KEY, ORGANIZATION)

SHOP_RATE_LIMITS = (
    LOGIN,
    LOGIN_IP,
    REGISTER,
    REFRESH,
    PASSWORD,
    WRITES,
    API_KEY,
    ORGANIZATION,
    REQUESTS,
    CATALOG,
)
