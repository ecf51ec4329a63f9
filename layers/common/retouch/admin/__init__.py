"""Operator tooling: accounts and keys, against a local or a deployed stack."""
