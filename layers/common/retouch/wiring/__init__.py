"""Composition roots: each function's collaborators are built here from its settings, one module per function
(`api` serves the api and sync functions' routes; `sync` adds the key lookup the sync function does itself), and
`admin` builds the admin tool's, never inside the domain packages. Outside data/ itself, these are the only modules
that import retouch.data (tests/unit/test_data_layer_imports.py). boto3 clients are lazy."""
