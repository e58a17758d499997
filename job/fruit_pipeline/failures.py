"""Turn an unexpected exception (often a Py4J/Spark one) into one readable line."""

from __future__ import annotations

import re
from typing import Callable

# Other modules (S3, ...) register matchers: exception text -> one line, or None.
MATCHERS: list[Callable[[str], str | None]] = []

_NOISE = re.compile(r"^(An error occurred while calling \S+\.\s*|py4j\.protocol\.Py4JJavaError:\s*)")


def describe(exc: BaseException) -> str:
    text = str(exc)
    for matcher in MATCHERS:
        line = matcher(text)
        if line:
            return line
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not _NOISE.match(ln.strip())]
    head = lines[0] if lines else type(exc).__name__
    return f"{type(exc).__name__}: {head[:400]}"
