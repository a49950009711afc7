"""The package version (hatch reads it from here: ``[tool.hatch.version] path``)."""

__version__ = "0.1.0"
