"""The extractor registry: built-ins and plugins through one entry-point group.

Every extractor, ours included, is found through the ``kg.extractors`` entry-point group;
each entry point names a class (or factory) called with no arguments::

    registry = ExtractorRegistry.from_entry_points()          # strict: a broken plugin raises
    registry = ExtractorRegistry.from_entry_points(strict=False)
    registry.errors                                            # what was skipped, and why
    registry.for_path("src/app.py")                            # FileExtractor | None

Dispatch by path tries the exact file name first (``Makefile``), then compound suffixes from
the longest (``.d.ts`` before ``.ts``); suffixes compare case-insensitively.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import PurePosixPath

from extractors.base import Extractor, FileExtractor, RepoExtractor
from kg.errors import ExtractorError

GROUP = "kg.extractors"
log = logging.getLogger(__name__)


class ExtractorRegistry:
    """Extractors by unique name; file extractors also by the extensions they claim."""

    def __init__(self, extractors: Iterable[Extractor] = ()) -> None:
        self._by_name: dict[str, Extractor] = {}
        self._by_ext: dict[str, FileExtractor] = {}
        self._errors: list[str] = []
        for extractor in extractors:
            self.register(extractor)

    @classmethod
    def from_entry_points(cls, group: str = GROUP, *, strict: bool = True) -> ExtractorRegistry:
        """Load every entry point of ``group`` (sorted by name, so the result is stable).

        ``strict``: the first broken plugin raises ``ExtractorError`` naming it; otherwise it is
        skipped with a warning and listed in ``errors``.
        """
        registry = cls()
        seen: set[tuple[str, str]] = set()
        for ep in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
            if (ep.name, ep.value) in seen:  # one distribution visible twice on sys.path
                continue
            seen.add((ep.name, ep.value))
            try:
                extractor = _load(ep, group)
                try:
                    registry.register(extractor)
                except ExtractorError as exc:
                    raise ExtractorError(f"{_where(ep, group)} was refused: {exc}") from exc
            except ExtractorError as exc:
                if strict:
                    raise
                log.warning("%s", exc)
                registry._errors.append(str(exc))
        return registry

    @property
    def errors(self) -> list[str]:
        """Plugins skipped by ``from_entry_points(strict=False)``, one message each."""
        return list(self._errors)

    def register(self, extractor: Extractor) -> None:
        """Add an extractor; a taken name or extension raises ``ExtractorError``."""
        if not isinstance(extractor, FileExtractor | RepoExtractor):
            raise ExtractorError(
                f"{extractor!r} is neither a FileExtractor nor a RepoExtractor; see "
                "extractors.base for the attributes and methods an extractor needs"
            )
        name = extractor.name
        if name in self._by_name:
            raise ExtractorError(
                f"an extractor named {name!r} is already registered "
                f"({type(self._by_name[name]).__qualname__}); give the plugin another name"
            )
        file_ext = extractor if isinstance(extractor, FileExtractor) else None
        claims = sorted(_norm(e) for e in file_ext.extensions) if file_ext is not None else []
        for ext in claims:
            if ext in self._by_ext:
                raise ExtractorError(
                    f"extension {ext!r} of extractor {name!r} is already handled by "
                    f"{self._by_ext[ext].name!r}; only one extractor may claim it"
                )
        self._by_name[name] = extractor
        if file_ext is not None:
            self._by_ext.update(dict.fromkeys(claims, file_ext))

    def get(self, name: str) -> Extractor:
        try:
            return self._by_name[name]
        except KeyError:
            raise ExtractorError(
                f"no extractor named {name!r}; registered: {', '.join(self.names()) or 'none'}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def file_extractors(self) -> list[FileExtractor]:
        return [e for e in self._ordered() if isinstance(e, FileExtractor)]

    def repo_extractors(self) -> list[RepoExtractor]:
        return [e for e in self._ordered() if isinstance(e, RepoExtractor)]

    def extensions(self) -> frozenset[str]:
        return frozenset(self._by_ext)

    def for_path(self, path: str) -> FileExtractor | None:
        """The file extractor for a repository-relative path, or None if nobody claims it."""
        name = PurePosixPath(path).name
        if name in self._by_ext:
            return self._by_ext[name]
        lowered = name.lower()
        start = lowered.find(".", 1)  # a leading dot is a hidden file, not a suffix
        while start != -1:
            hit = self._by_ext.get(lowered[start:])
            if hit is not None:
                return hit
            start = lowered.find(".", start + 1)
        return None

    def _ordered(self) -> list[Extractor]:
        return [self._by_name[n] for n in self.names()]


def _norm(ext: str) -> str:
    """Suffixes are case-insensitive; a bare file name (no leading dot) is kept as written."""
    return ext.lower() if ext.startswith(".") else ext


def _where(ep: EntryPoint, group: str) -> str:
    return f"extractor plugin {ep.name!r} ({ep.value}) in entry-point group {group!r}"


def _load(ep: EntryPoint, group: str) -> Extractor:
    where = _where(ep, group)
    try:
        target = ep.load()
    # A plugin may fail in any way while importing; each is reported, never swallowed.
    except Exception as exc:
        raise ExtractorError(
            f"{where} failed to import: {exc!r}; fix or uninstall the plugin"
        ) from exc
    if not callable(target):
        raise ExtractorError(f"{where} is not a class or factory but {type(target).__name__}")
    try:
        extractor = target()
    except Exception as exc:
        raise ExtractorError(f"{where} could not be created with no arguments: {exc!r}") from exc
    if not isinstance(extractor, FileExtractor | RepoExtractor):
        raise ExtractorError(
            f"{where} made {type(extractor).__qualname__}, which is neither a FileExtractor "
            "(name, version, extensions, extract_file, resolver) nor a RepoExtractor "
            "(name, version, applies, extract_repo)"
        )
    return extractor
