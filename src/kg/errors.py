"""One exception root for codekg; every user-facing error says what was wrong and what to do."""

from __future__ import annotations


class KGError(Exception):
    """Root of every error codekg raises on purpose."""


class ConfigError(KGError):
    """A setting is missing or invalid (the message names the setting and accepted values)."""


class StoreError(KGError):
    """A store could not be reached or refused an operation."""


class StoreUnavailable(StoreError):
    """The backend is not reachable (the message names its URL)."""


class InvalidInput(KGError):
    """Input that codekg will not process (the message names the field or the file)."""


class ExtractorError(KGError):
    """An extractor failed or could not be loaded."""


class NotFound(KGError):
    """An entity or job that was asked for does not exist."""
