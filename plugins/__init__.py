"""casebot's features, one plugin each; `DEFAULT_PLUGINS` load unless the config lists others."""

DEFAULT_PLUGINS: tuple[str, ...] = ("specialties", "cases", "secrecy", "volunteers", "trust",
                                   "learning")
