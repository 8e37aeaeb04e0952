"""Reading the project's TOML declaration files (known failures, environments): one place that
turns a syntax error or an unknown top-level table into a one-line error of the caller's type."""
from __future__ import annotations

import tomllib

from .errors import ConformanceError


def load_toml(text: str, origin, allowed: set[str], error: type[ConformanceError], fix: str) -> dict:
    """The parsed document; ``error`` for invalid TOML or a top-level key not in ``allowed``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{origin} is not valid TOML ({exc})") from None
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise error(f"{origin}: unknown top-level key(s) {', '.join(unknown)}", fix=fix)
    return data
