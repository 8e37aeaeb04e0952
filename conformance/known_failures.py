"""Expected failures as data: ``suites/known_failures.toml``.

Each ``[[failure]]`` entry names the cases (a glob, or a list of globs sharing one reason) a
converter (in a version range) is known to get wrong on a target, and why. The runner consults
``KnownFailures.match`` after comparing:

* failed/error + a matching ``xfail`` entry   -> ``xfailed`` (message keeps the statistics and
  adds the reason);
* passed + a matching ``xfail`` entry         -> ``xpassed`` (fails the run under
  ``--strict-known-failures``: a fixed bug must leave the table, so it cannot rot);
* failed/error/unsupported + an ``unsupported`` entry -> ``unsupported`` (passed -> ``xpassed``
  as above; skipped and unavailable stay as they are);
* a ``flaky`` entry is for a converter bug that depends on process state (uninitialised
  memory): failed/error -> ``xfailed``, passed stays ``passed`` (a note says so), so the table
  neither hides the bug nor fails a strict run at random.

``expected_status`` implements this mapping in one place. Matching is by glob
(``fnmatch.fnmatchcase``: ``*`` also crosses ``/``) on the case id, the converter and the
target (``target`` may list alternatives, ``"onnxruntime*|reference"``: a converter bug that one
runtime tolerates is not claimed there), and by ``packaging.specifiers.SpecifierSet`` on the converter version (pre-releases
and local builds such as ``2.13.0+cpu`` included). An entry with a version range does not
match an unknown or unparseable version: a known failure is only claimed where it is known.
The first matching entry in file order wins.
"""
from __future__ import annotations

import fnmatch

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .errors import ConformanceError
from .tomlfile import load_toml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "suites" / "known_failures.toml"
ENTRY_STATUSES = ("xfail", "unsupported", "flaky")
_KEYS = ("pattern", "converter", "versions", "target", "reason", "link", "status")


class KnownFailuresError(ConformanceError):
    """The known-failures table is missing, not TOML, or has an invalid entry."""


@dataclass(frozen=True)
class Entry:
    patterns: tuple[str, ...]    # case-id globs (``pattern = "glob"`` or ``pattern = [...]``)
    reason: str
    converter: str = "*"
    versions: str | None = None
    target: str = "*"
    link: str | None = None
    status: str = "xfail"
    index: int = 0               # 1-based position in the table, for messages

    @property
    def pattern(self) -> str:
        """The globs as one string, for messages and records."""
        return " | ".join(self.patterns)

    @property
    def specifier(self) -> SpecifierSet | None:
        return SpecifierSet(self.versions) if self.versions else None

    def describe(self) -> str:
        return f"known failure #{self.index} (pattern {self.pattern!r})"

    def matches(self, case_id: str, converter: str, converter_version: str | None, target: str) -> bool:
        if not any(fnmatch.fnmatchcase(case_id, p) for p in self.patterns):
            return False
        if not fnmatch.fnmatchcase(converter or "", self.converter):
            return False
        if not any(fnmatch.fnmatchcase(target or "", glob) for glob in self.target.split("|")):
            return False
        if self.versions:
            if not converter_version:
                return False
            try:
                version = Version(str(converter_version))
            except InvalidVersion:
                return False
            if not self.specifier.contains(version, prereleases=True):
                return False
        return True

    def note(self) -> str:
        text = f"known failure: {self.reason}"
        if self.link:
            text += f" ({self.link})"
        return text


class KnownFailures:
    def __init__(self, entries: Iterable[Entry] = (), path: Path | None = None):
        self.entries = list(entries)
        self.path = path

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def match(self, case_id: str, converter: str, converter_version: str | None, target: str) -> Entry | None:
        for entry in self.entries:
            if entry.matches(case_id, converter, converter_version, target):
                return entry
        return None

    def match_any(self, names: Iterable[tuple[str, str, str]], converter_version: str | None) -> Entry | None:
        """The first entry matching any of the (case id, converter, target) names a case goes
        by, tried in order. A chained converter's case (``tf2onnx+optimize``) also goes by its
        base converter's id and name, so a converter's known bug stays known through the passes
        chained after it; a case in a named environment (``tf2onnx@tf216``,
        ``onnxruntime@ort131``) also goes by the names without it."""
        for case_id, converter, target in names:
            entry = self.match(case_id, converter, converter_version, target)
            if entry is not None:
                return entry
        return None


def expected_status(status: str, message: str, entry: Entry | None) -> tuple[str, str]:
    """Map a case's own outcome through its matching entry (see the module docstring)."""
    if entry is None:
        return status, message
    joined = f"{message}\n{entry.note()}" if message else entry.note()
    if status == "passed" and entry.status == "flaky":
        return "passed", f"passed this time; listed as flaky: {entry.reason}"
    if status == "passed":
        # for unsupported entries too: a case that now passes must leave the table
        return "xpassed", (f"passed but listed as a {entry.describe()}: remove the entry "
                           f"(reason was: {entry.reason})")
    if status in ("skipped", "unavailable"):
        return status, message
    if entry.status == "unsupported":
        return "unsupported", joined
    if status in ("failed", "error"):
        return "xfailed", joined
    return status, message


def _entry(raw: Any, index: int, path: Path) -> Entry:
    where = f"{path}: [[failure]] #{index}"
    if not isinstance(raw, dict):
        raise KnownFailuresError(f"{where} is not a table", fix="write each entry as a [[failure]] table")
    label = f"{where} (pattern {raw.get('pattern')!r})"
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise KnownFailuresError(f"{label} has unknown key(s) {unknown}", fix=f"use only {list(_KEYS)}")
    patterns = raw.get("pattern", "")
    if isinstance(patterns, list):                       # several globs sharing one reason
        if not patterns or not all(isinstance(p, str) and p.strip() for p in patterns):
            raise KnownFailuresError(f"{label}: pattern must be a glob or a list of non-empty globs")
    elif not isinstance(patterns, str):
        raise KnownFailuresError(f"{label}: pattern must be a string, got {type(patterns).__name__}")
    for key in _KEYS[1:]:                                # the others are strings
        if key in raw and not isinstance(raw[key], str):
            raise KnownFailuresError(f"{label}: {key} must be a string, got {type(raw[key]).__name__}")
    if isinstance(patterns, str) and not patterns.strip():
        raise KnownFailuresError(f"{where} has no pattern", fix="add pattern = \"<case-id glob>\"")
    if not raw.get("reason", "").strip():
        raise KnownFailuresError(f"{label} has no reason",
                                 fix="add reason = \"<why it fails>\"; every known failure must say why")
    status = raw.get("status", "xfail")
    if status not in ENTRY_STATUSES:
        raise KnownFailuresError(f"{label}: status {status!r} is not one of {ENTRY_STATUSES}")
    versions = raw.get("versions") or None
    if versions is not None:
        try:
            SpecifierSet(versions)
        except InvalidSpecifier:
            raise KnownFailuresError(f"{label}: versions {versions!r} is not a version range",
                                     fix="write it like \">=1.16,<1.18\"") from None
    return Entry(patterns=tuple(patterns) if isinstance(patterns, list) else (patterns,), reason=raw["reason"], converter=raw.get("converter", "*"),
                 versions=versions, target=raw.get("target", "*"), link=raw.get("link"),
                 status=status, index=index)


def parse_known_failures(text: str, path: Path | str = "<string>") -> KnownFailures:
    path = Path(path)
    data = load_toml(text, path, {"failure"}, KnownFailuresError, fix="entries go in [[failure]] tables")
    raw_entries = data.get("failure", [])
    if not isinstance(raw_entries, list):
        raise KnownFailuresError(f"{path}: 'failure' must be an array of tables", fix="write [[failure]]")
    return KnownFailures([_entry(raw, i, path) for i, raw in enumerate(raw_entries, 1)], path=path)


def load_known_failures(path: str | Path | None = None) -> KnownFailures:
    """Load the table; the default path is ``suites/known_failures.toml`` of this checkout (an
    empty table if that file is absent). An explicit path that does not exist is an error."""
    if path is None:
        if not DEFAULT_PATH.exists():
            return KnownFailures(path=DEFAULT_PATH)
        path = DEFAULT_PATH
    path = Path(path)
    if not path.exists():
        raise KnownFailuresError(f"known-failures file {path} does not exist",
                                 fix="pass an existing TOML file or omit the option")
    return parse_known_failures(path.read_text(), path)
