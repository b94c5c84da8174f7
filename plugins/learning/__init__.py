"""Learning: the weekly digest, shared references, the FMC/DPC log and the `!stats` chart."""

from plugins.learning.plugin import Learning, LearningConfig

PLUGIN = Learning

__all__ = ["PLUGIN", "Learning", "LearningConfig"]
