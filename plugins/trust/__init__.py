"""Trust: verified physicians (RPPS directory), knocks, reports to moderators, a charter."""

from plugins.trust.plugin import Trust, TrustConfig

PLUGIN = Trust

__all__ = ["PLUGIN", "Trust", "TrustConfig"]
