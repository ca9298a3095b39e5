"""Self-tests of layer-conformance (the role array-api-tests' meta/ tests play)."""
