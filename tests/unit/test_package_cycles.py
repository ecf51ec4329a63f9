"""The `retouch` packages import one another without cycles: each can be read (and moved) knowing only what it
depends on. The graph comes from every import statement, deferred imports included."""

from __future__ import annotations

from tooling.code_shape import package_cycles, package_import_graph


def test_the_retouch_packages_have_no_import_cycle() -> None:
    assert package_cycles() == []


def test_the_cycle_finder_reports_a_cycle_it_is_given() -> None:
    graph = {"retouch.a": {"retouch.b"}, "retouch.b": {"retouch.c"}, "retouch.c": {"retouch.a"}, "retouch.d": set()}
    assert package_cycles(graph) == [["retouch.a", "retouch.b", "retouch.c"]]


def test_the_graph_sees_the_known_edges() -> None:
    graph = package_import_graph()
    assert "retouch.ports" in graph["retouch.jobs"]
    assert "retouch.ports" in graph["retouch.data"]  # adapters depend on their ports, never the reverse
    assert "retouch.data" in graph["retouch.wiring"]
    assert "retouch.jobs" in graph["retouch.wiring"]
