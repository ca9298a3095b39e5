"""layer-conformance: a property-based conformance suite for the custom layers and
utilities of Hugging Face transformers.

The repository directory ``conformance/`` is installed as this package
(``layer_conformance``); ``reference/`` and ``strategies/`` are installed as its
subpackages ``layer_conformance.reference`` and ``layer_conformance.strategies``.
"""

__version__ = "0.1.0"
