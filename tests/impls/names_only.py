"""The reference's contract names and nothing else: no hooks, no extras.

The whole suite must pass on it, so no property may depend on anything but the
contract names (hooks are optional and have defaults).
"""

from layer_conformance import reference
from layer_conformance.contract import NAMES

globals().update({name: getattr(reference, name) for name in NAMES})
