"""The files the suite writes and reads back: plain data that the plugin and the tools share.

============== ===================================================================
module         format
============== ===================================================================
report         ``report.json`` (``layer-conformance-report/1``), ``report.md``,
               the repro scripts; reading a saved report (the gate's baseline,
               a sweep's releases)
example        a failing example as plain data (``layer-conformance-example/1``)
xfails         the expected-failure lines of an xfails file
keys           how a test is named in xfail lines, reports, sweeps
============== ===================================================================

Nothing here is a pytest hook: the plugin writes these formats, the tools
(:mod:`layer_conformance.tools`) read them, neither reaches into the other.
Only :mod:`.example` imports torch (to encode tensors).
"""
