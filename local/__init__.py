"""Local runtime of Retouch: the whole SAM stack on 127.0.0.1, derived from template.yaml.

Entry points: `python -m local` (the `make run` target) and `local.stack.LoopbackStack` (tests).

One room per thing it emulates; the stack at the top puts them together:

    stack.py, settings.py    LoopbackStack (the whole stack) and LocalSettings (what `make run` reads)
    __main__.py, banner.py   `make run`: start, print where everything is, stop on Ctrl-C
    console.py, log_lines.py where the stack's and its children's output goes, and how it is shown
    child_process.py         ChildProcess: the stack's child processes (moto, function hosts, the seeder)
    seed.py                  the local account and API key `make run` starts with
    cloudformation/          template.yaml read as data, its parameters and intrinsics, its resources created
    aws/                     the AWS emulation: moto's server, and the patches that make it behave as AWS
    lambdas/                 Lambda: execution environments (host process, runtime, pool), SQS and schedule sources
    api_gateway/             the HTTP API: routes, the Lambda authorizer, payload format 2.0, the loopback server
    stand_ins/               the upstream image providers' stand-ins (OpenAI images and the others)
    load/                    load and faults against a running stack (bench and fault-run tests); not runtime
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
