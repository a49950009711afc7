"""The package version (hatch reads it from here: ``[tool.hatch.version] path``)."""

__version__ = "0.1.0"
"""The package version.

>>> import tam_widgets
>>> len(tam_widgets.__version__.split("."))  # major.minor.patch
3
"""
