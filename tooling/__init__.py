"""Code the scripts and the tests share, importable from the repository root (never deployed).

`scripts/` holds entry points only (`python -m scripts.<name>`, see the Makefile); what they compute lives here so
tests can import and check it without importing a script:

- `functions`: the template's functions (every `AWS::Serverless::Function`) and the environment that imports one
  outside Lambda (cold-import budget, bench cold init, least-privilege probes);
- `code_shape`: the import graph between `retouch` packages and its cycles;
- `cost_model`: one job's AWS cost at list prices (`aws_prices.json`) from measured figures;
- `stack_log`: reading the local stack's log (invocation durations, billing's tries).
"""
