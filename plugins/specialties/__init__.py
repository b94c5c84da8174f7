"""Specialty catalogue, case tagger, and the feature that gives each room its specialties."""

from .catalog import Specialty, load_defaults, match_specialties, normalize
from .classify import Tag, classify
from .plugin import Specialties

PLUGIN = Specialties

__all__ = [
    "PLUGIN", "Specialty", "Tag", "classify", "load_defaults", "match_specialties", "normalize",
]
