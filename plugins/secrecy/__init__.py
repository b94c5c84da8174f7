"""Secrecy guard: the identifying-data detector and the feature that warns, redacts and refuses."""

from plugins.secrecy.detector import Finding, scan
from plugins.secrecy.plugin import Secrecy

PLUGIN = Secrecy

__all__ = ["PLUGIN", "Finding", "Secrecy", "scan"]
