"""Composition roots: each function's collaborators are built here from its settings, one module per function
(`api` serves the api and sync functions' routes), never inside the domain packages. boto3 clients are lazy."""
