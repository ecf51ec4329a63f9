"""The synchronous entry behind its edge (web/edge.py): with an edge secret, only requests carrying it are served."""

from __future__ import annotations

from retouch.web.edge import EDGE_HEADER, from_edge


def test_without_an_edge_every_request_is_served() -> None:
    assert from_edge({}, None) and from_edge(None, None)


def test_behind_the_edge_only_requests_with_its_secret_are_served() -> None:
    assert from_edge({EDGE_HEADER: "s3cr3t"}, "s3cr3t")
    assert not from_edge({EDGE_HEADER: "guess"}, "s3cr3t")
    assert not from_edge({"authorization": "Bearer sk-anything"}, "s3cr3t")
    assert not from_edge(None, "s3cr3t")
