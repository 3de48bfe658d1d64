"""`apiforge bench`: measures the shop against a bare FastAPI baseline in the same run.

It talks HTTP only (wrk for closed-loop throughput, its own open-loop generator for latency at
a fixed rate); it never imports the shop or the kit, so it measures what a client would see.
"""
