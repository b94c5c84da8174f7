"""Cases: `!case` threads, specialty tagging, resolution tracking, reminders and stats; the
case lifecycle it publishes is in `plugins.cases.events`."""

from plugins.cases.events import CASE_COMMANDS
from plugins.cases.plugin import Cases

PLUGIN = Cases

__all__ = ["CASE_COMMANDS", "PLUGIN", "Cases"]
