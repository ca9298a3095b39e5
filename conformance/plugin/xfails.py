"""Expected failures: one plain-text file per implementation.

Each non-blank, non-comment line reads::

    <test pattern> | <reason> | <repro> [| <versions>]

``test pattern`` is matched against ``<file>::<test name>``, where ``*`` matches
any run of characters and ``?`` any one character (brackets are literal),
the test name with its parameter ids, e.g.
``test_pruning.py::test_pruned_parameters_keep_dtype[transformers-float16]``
(``[*-float16]`` matches it whatever the implementation is called).  ``reason`` says
what is wrong, ``repro`` is the smallest reproduction (a command or a link), and
the optional version field restricts the line to implementation versions: a
glob (``4.*``) or a PEP 440 specifier set (``<5.24``, ``>=4.57,<5``).  The bundled files live in ``layer_conformance/xfails/``
and are named after the implementation; ``--xfails-file IMPL=PATH`` adds more.
A malformed line is a usage error naming the file and line.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["XfailEntry", "XfailFileError", "bundled_entries", "match", "parse_xfails"]


class XfailFileError(ValueError):
    """A malformed xfails file; the message names the file and the line."""


@dataclass(frozen=True)
class XfailEntry:
    pattern: str
    reason: str
    repro: str
    versions: str | None
    source: str  # file:line

    def applies(self, test_key: str, version: str | None) -> bool:
        if self.versions is not None and not _version_matches(self.versions, version):
            return False
        return _compile(self.pattern).fullmatch(test_key) is not None


def _version_matches(field: str, version: str | None) -> bool:
    if field[:1] in "<>=!~":
        from packaging.specifiers import SpecifierSet
        from packaging.version import InvalidVersion, Version

        try:
            return Version(version or "") in SpecifierSet(field)
        except InvalidVersion:
            return False
    return fnmatch.fnmatchcase(version or "", field)


@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` are wildcards; everything else, brackets included, is literal."""
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."))


def parse_xfails(text: str, source: str) -> list[XfailEntry]:
    entries = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split(" | ")]
        if len(fields) not in (3, 4) or not all(fields):
            raise XfailFileError(
                f"{source}:{lineno}: expected '<test pattern> | <reason> | <repro> [| <versions>]', got {line!r}"
            )
        if "::" not in fields[0]:
            raise XfailFileError(f"{source}:{lineno}: test pattern {fields[0]!r} must look like '<file>::<test>'")
        if len(fields) == 4 and fields[3][:1] in "<>=!~":
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                SpecifierSet(fields[3])
            except InvalidSpecifier:
                raise XfailFileError(f"{source}:{lineno}: bad version specifier {fields[3]!r}") from None
        entries.append(
            XfailEntry(fields[0], fields[1], fields[2], fields[3] if len(fields) == 4 else None, f"{source}:{lineno}")
        )
    return entries


def read_xfails(path: str | Path) -> list[XfailEntry]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise XfailFileError(f"{path}: cannot read xfails file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise XfailFileError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return parse_xfails(text, str(path))


def bundled_entries(impl_name: str) -> list[XfailEntry]:
    """The xfails shipped with the suite for a built-in implementation (none for others)."""
    resource = resources.files("layer_conformance").joinpath("xfails", f"{impl_name}.txt")
    if not resource.is_file():
        return []
    return parse_xfails(resource.read_text(encoding="utf-8"), f"layer_conformance/xfails/{impl_name}.txt")


def match(entries: list[XfailEntry], test_key: str, version: str | None) -> XfailEntry | None:
    for entry in entries:
        if entry.applies(test_key, version):
            return entry
    return None
