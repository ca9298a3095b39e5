"""Bugs seeded into the other libraries themselves (pytest plugins: ``-p tests.seeded.<name>`` patches the
library when the session starts), so that ``tests/test_seeded_libraries.py`` proves each adapter hands what
its library computes to the verdict: a bug in the library, and not only in the suite's own broken
implementations, makes a property fail.  Each imports its library only: run in that library's environment."""


def defining(classes: tuple[type, ...], attr: str) -> list[type]:
    """The classes that define ``attr`` for ``classes`` (each once: a method two of them inherit is patched once)."""
    return list(dict.fromkeys(next(k for k in cls.__mro__ if attr in k.__dict__) for cls in classes))
