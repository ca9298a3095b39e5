"""The tools that run outside pytest: the command line, the release sweep, and replaying a repro.

============== ===================================================================
module         job
============== ===================================================================
cli            ``layer-conformance``: the installed properties from anywhere,
               and its subcommands
sweep          ``layer-conformance sweep``: the suite on a list of releases,
               each in its own environment
history        what changed across releases, and the xfail ranges
matrix         the cross-version matrix, from a sweep or from saved reports
replay         what a report's ``repro_<n>.py`` runs
============== ===================================================================

They read and write :mod:`layer_conformance.formats`; they never import the
plugin.
"""
