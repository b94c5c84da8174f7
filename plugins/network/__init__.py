"""A wider circle: relay an unanswered case to a wider room, with the poster's consent, and
mirror the answers back (`plugins.network.plugin`)."""

from plugins.network.plugin import Network

PLUGIN = Network

__all__ = ["PLUGIN", "Network"]
