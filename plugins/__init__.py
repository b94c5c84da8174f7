"""casebot's features, one plugin each. `DEFAULT_PLUGINS` are loaded unless the config lists others."""

DEFAULT_PLUGINS: tuple[str, ...] = ()
