"""Helpers shared by the live tests."""
