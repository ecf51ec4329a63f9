"""Provider stand-ins on loopback, for local runs and tests: real images, real wire formats, faults on request.

    stand_in.py       what every stand-in shares: threaded werkzeug server, received calls, waits `stop()` ends
    faults.py         the fault language (`[fault:500x2]` in the prompt), counted per prompt
    drawing.py        the images they answer with, drawn by Pillow (no wire format here)
    openai_images.py  the OpenAI images API (edits, generations): parameter rules, errors, usage

Another provider's wire format (ModelsLab, AIML, Oxen, Runflow, fal, Azure OpenAI) is one more sibling module,
named by its kind's entry in retouch/upstream_registry.py (docs/adding-an-upstream.md): a `StandIn` subclass
whose `respond(request)` parses that format, records a `ReceivedCall`, asks
`self.faults.next_fault(prompt)`, waits with `self.delay_for(fault)` and draws with `drawing.draw_outputs`.

    python -m local.stand_ins --port 8090 --delay 1
"""

from local.stand_ins.openai_images import OpenAIImagesFake
from local.stand_ins.stand_in import ReceivedCall, StandIn

# The stand-in the local stack runs unless a real provider key is given.
FakeProvider = OpenAIImagesFake

__all__ = ["FakeProvider", "OpenAIImagesFake", "ReceivedCall", "StandIn"]
