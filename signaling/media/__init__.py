"""The server-side media of rooms: one aiortc peer per participant, and a router
per room that decides whose tracks each participant receives.

Everything outside this package talks to `router.PairMediaRouter` only, so a
later step can move routers into worker processes behind the channel layer.
"""
