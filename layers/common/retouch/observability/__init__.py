"""Observability: the names of what the functions measure, shared by the code and template.yaml."""
