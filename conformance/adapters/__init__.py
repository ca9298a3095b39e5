"""Adapters that present other libraries as implementations of the contract."""
