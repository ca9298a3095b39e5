"""Deliberately broken implementations, one bug each.

Every module here is an implementation (``--impl tests.broken.<module>``) that
exposes only the contract names around its bug, so the rest of the suite
reports them missing and skips them cheaply.  Each declares ``KILLED_BY``: the
properties (``<file>::<test function>``) that must fail on it.
``tests/test_kills.py`` runs the whole suite on all of them at once and checks
both directions: every broken implementation is caught by the properties it
names, and every property of the suite catches at least one of them.
"""
