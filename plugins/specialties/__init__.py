"""Specialty catalogue, case tagger, and the feature that gives each room its specialties."""

from .catalog import Specialty, load_defaults, match_specialties, normalize
from .classify import Tag, classify
from .events import SpecialtyFigures, SpecialtyRemoved
from .learn import RoomModel
from .plugin import Specialties, SpecialtyArg, find_specialty, room_specialties

PLUGIN = Specialties

__all__ = [
    "PLUGIN", "RoomModel", "Specialties", "Specialty", "SpecialtyArg", "SpecialtyFigures",
    "SpecialtyRemoved",
    "Tag", "classify", "find_specialty", "load_defaults", "match_specialties", "normalize",
    "room_specialties",
]
