"""Cases: `!case` threads, specialty tagging, resolution tracking, reminders and stats."""

from plugins.cases.plugin import CaseExtension, Cases
from plugins.cases.store import Case

PLUGIN = Cases

__all__ = ["PLUGIN", "Case", "CaseExtension", "Cases"]
