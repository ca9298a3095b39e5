"""Expected failures: one plain-text file per implementation.

Each non-blank, non-comment line reads::

    <test pattern> | <reason> | <repro> [| <versions> [| <failure>]]

``test pattern`` is matched against ``<file>::<test name>``, where ``*`` matches
any run of characters and ``?`` any one character (brackets are literal),
the test name with its parameter ids, e.g.
``test_pruning.py::test_pruned_parameters_keep_dtype[transformers-float16]``
(``[*-float16]`` matches it whatever the implementation is called).  ``reason`` says
what is wrong, ``repro`` is the smallest reproduction (a command or a link).

``versions`` restricts the line to implementation versions: a glob (``4.*``;
``*`` for every version) or a PEP 440 specifier set (``<5.24``, ``>=4.57,<5``):
the range a release sweep found, first bad release included, first fixed
excluded (``layer-conformance sweep`` checks every line against it).

``failure`` is the failure the line describes: an exception type, optionally
followed by ``:`` and a regular expression searched in the exception's message
(``AssertionError: max_seq_len_cached``; several types separated by commas;
``*: <regex>`` for any type).  A type matches the exception's class or any of its
bases.  A test that fails otherwise (another exception, another message) fails
as usual, with a note saying which line did not match; when Hypothesis reports
several distinct failures, every one must match.  Without the field any
failure is taken for the one described.

The bundled files live in ``layer_conformance/xfails/`` and are named after the
implementation; ``--xfails-file IMPL=PATH`` adds more.  A malformed line is a
usage error naming the file and line.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "XfailEntry",
    "XfailFileError",
    "bundled_entries",
    "design_entries",
    "exception_text",
    "failure_matches",
    "first_mismatch",
    "leaves",
    "message_matches",
    "parse_xfails",
    "read_xfails",
]


class XfailFileError(ValueError):
    """A malformed xfails file; the message names the file and the line."""


@dataclass(frozen=True)
class XfailEntry:
    pattern: str
    reason: str
    repro: str
    versions: str | None
    source: str  # file:line
    #: the failure described (``Type[, Type]: regex``), or None: any failure
    failure: str | None = None
    #: "bug" (a line of an xfails file: reported xfailed) or "design" (a difference its implementation declares,
    #: :class:`layer_conformance.implementation.Difference`: reported differs)
    kind: str = "bug"

    def applies(self, test_key: str, version: str | None) -> bool:
        return self.in_range(version) and self.covers(test_key)

    def covers(self, test_key: str) -> bool:
        """Whether the test pattern matches ``test_key`` (whatever the version)."""
        return _compile(self.pattern).fullmatch(test_key) is not None

    def in_range(self, version: str | None) -> bool:
        return self.versions is None or _version_matches(self.versions, version)


def _split_failure(field: str) -> tuple[tuple[str, ...], str | None]:
    types, sep, pattern = field.partition(":")
    names = tuple(t.strip() for t in types.split(","))
    return names, (pattern.strip() or None) if sep else None


def _check_failure(field: str, where: str) -> None:
    names, pattern = _split_failure(field)
    if not all(n == "*" or n.isidentifier() for n in names) or ("*" in names and len(names) > 1):
        raise XfailFileError(
            f"{where}: failure {field!r} must read '<ExceptionType>[, <ExceptionType>][: <regex>]' ('*' for any type)"
        )
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise XfailFileError(f"{where}: bad regular expression {pattern!r} in failure {field!r}: {exc}") from None


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions of a group (Hypothesis' distinct failures; the ``exceptiongroup`` backport on 3.10 too)."""
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, (list, tuple)) and inner and all(isinstance(e, BaseException) for e in inner):
        return [leaf for e in inner for leaf in leaves(e)]
    return [exc]


def exception_text(exc: BaseException) -> str:
    """The message of an exception (pytest.fail's ``msg``)."""
    msg = getattr(exc, "msg", None)
    return str(msg) if isinstance(msg, str) and msg else str(exc)


def _described(names: tuple[str, ...], pattern: str | None, classes: set[str], text: str) -> bool:
    """Whether a failure of one of ``classes`` (type names) with message ``text`` is the one described."""
    if "*" not in names and not classes.intersection(names):
        return False
    return pattern is None or re.search(pattern, text) is not None


def _leaf_matches(names: tuple[str, ...], pattern: str | None, leaf: BaseException) -> bool:
    return _described(names, pattern, {c.__name__ for c in type(leaf).__mro__}, exception_text(leaf))


def first_mismatch(field: str, exc: BaseException) -> BaseException | None:
    """The first exception of ``exc`` (itself, or one of its group) that is not the failure ``field``
    describes; None when every one is."""
    names, pattern = _split_failure(field)
    return next((leaf for leaf in leaves(exc) if not _leaf_matches(names, pattern, leaf)), None)


def failure_matches(field: str, exc: BaseException) -> bool:
    """Whether ``exc`` (each exception of a group) is of one of the field's types and its message matches
    the field's regular expression."""
    return first_mismatch(field, exc) is None


def message_matches(field: str | None, message: str) -> bool:
    """Whether a report's ``Type: first line`` message (a failure recorded, no exception object) is the failure
    ``field`` describes (None: any failure); the type is compared by its name only."""
    if field is None:
        return True
    names, pattern = _split_failure(field)
    return _described(names, pattern, {message.split(":", 1)[0].strip()}, message)


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
        if len(fields) not in (3, 4, 5) or not all(fields):
            raise XfailFileError(
                f"{source}:{lineno}: expected '<test pattern> | <reason> | <repro> [| <versions> [| <failure>]]', "
                f"got {line!r}"
            )
        if "::" not in fields[0]:
            raise XfailFileError(f"{source}:{lineno}: test pattern {fields[0]!r} must look like '<file>::<test>'")
        if len(fields) >= 4 and fields[3][:1] in "<>=!~":
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                SpecifierSet(fields[3])
            except InvalidSpecifier:
                raise XfailFileError(f"{source}:{lineno}: bad version specifier {fields[3]!r}") from None
        if len(fields) == 5:
            _check_failure(fields[4], f"{source}:{lineno}")
        versions = fields[3] if len(fields) >= 4 and fields[3] != "*" else None
        entries.append(
            XfailEntry(
                fields[0],
                fields[1],
                fields[2],
                versions,
                f"{source}:{lineno}",
                fields[4] if len(fields) == 5 else None,
            )
        )
    return entries


def design_entries(differences: Sequence[Any], where: str) -> list[XfailEntry]:
    """The entries of an implementation's declared differences (``where`` names the declaration, e.g.
    ``vllm: DESIGN_DIFFERENCES``); a malformed one raises :class:`XfailFileError` naming it."""
    entries = []
    for index, d in enumerate(differences):
        source = f"{where}[{index}]"
        if "::" not in d.pattern or not d.rule or not d.source:
            raise XfailFileError(f"{source}: a difference needs a '<file>::<test>' pattern, a rule and a source")
        if d.failure is not None:
            _check_failure(d.failure, source)
        entries.append(XfailEntry(d.pattern, d.rule, d.source, d.versions, source, d.failure, kind="design"))
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
