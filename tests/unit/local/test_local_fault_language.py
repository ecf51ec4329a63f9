"""The stand-ins' fault language: untargeted directives apply at every stand-in, `[fault:<upstream>:…]` only at the
named one, and each stand-in counts a prompt's calls on its own."""

from __future__ import annotations

from local.stand_ins.faults import FaultCounter
from local.stand_ins.upstreams import STAND_INS


def test_an_untargeted_directive_applies_at_every_stand_in():
    prompt = "a fox [fault:500x1]"
    for upstream in ("openai", "modelslab"):
        counter = FaultCounter(upstream)
        assert [counter.next_fault(prompt) for _ in range(2)] == ["500", None]


def test_a_targeted_directive_applies_only_at_the_named_upstream():
    prompt = "a fox [fault:modelslab:503][fault:runflow:503x1]"
    modelslab, runflow, openai = FaultCounter("modelslab"), FaultCounter("runflow"), FaultCounter("openai")
    assert [modelslab.next_fault(prompt) for _ in range(3)] == ["503", "503", "503"]  # no count: every call
    assert [runflow.next_fault(prompt) for _ in range(2)] == ["503", None]
    assert openai.next_fault(prompt) is None


def test_targeted_and_untargeted_directives_keep_their_order_per_stand_in():
    prompt = "a fox [fault:oxen:429x1][fault:500x1]"
    oxen, fal = FaultCounter("oxen"), FaultCounter("fal")
    assert [oxen.next_fault(prompt) for _ in range(3)] == ["429", "500", None]
    assert [fal.next_fault(prompt) for _ in range(2)] == ["500", None]


def test_every_stand_in_is_named_after_the_routing_kind_it_serves():
    from local.stand_ins import FakeProvider

    assert FakeProvider.upstream == "openai"
    assert {name: stand_in.upstream for name, stand_in in STAND_INS.items()} == {name: name for name in STAND_INS}
    assert STAND_INS["oxen"](api_key="k").faults.upstream == "oxen"
