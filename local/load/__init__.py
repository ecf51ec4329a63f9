"""Load and faults against a running local stack, for `make bench`, `make load-figures` and the fault-run tests.

Not runtime: nothing the stack runs imports it (tests/unit/local/test_local_layout.py checks). It lives beside the
runtime because it reaches into a LoopbackStack (its resources, its function pools' processes, moto's pid), and
because tests (pytest's `pythonpath`) and scripts (the repository root they already import `local.stack` from) can
both import it as it is.

    generator.py    accounts with credit, bounded submissions with fault directives, waits, kills, duplicates
"""
