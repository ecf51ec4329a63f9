"""Local runtime of Retouch: the whole SAM stack on 127.0.0.1, derived from template.yaml.

Entry points: `python -m local` (the `make run` target) and `local.stack.LoopbackStack` (tests).
"""
