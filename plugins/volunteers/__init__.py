"""Volunteers: colleagues who agree to be paged for new cases of their specialties."""

from plugins.volunteers.plugin import Volunteers, VolunteersConfig

PLUGIN = Volunteers

__all__ = ["PLUGIN", "Volunteers", "VolunteersConfig"]
