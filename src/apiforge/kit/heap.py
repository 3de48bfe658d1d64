"""Moves the start-up heap out of the garbage collector's sight once the app is up.

Imports, routes and pydantic schemas leave hundreds of thousands of long-lived objects; every
full collection walks them all and shows up as a 40-50 ms p99 spike under load. `gc.freeze()`
parks them in a permanent generation (CPython's documented use after start-up). Not for:
tuning collection thresholds.
"""

import gc
from typing import Any


async def freeze_startup_heap(_state: Any) -> None:
    gc.collect()
    gc.freeze()
