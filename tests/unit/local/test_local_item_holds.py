"""ItemHolds (local.aws.dynamodb_contention): which items in-flight transactions hold, and that nothing stays behind."""

from __future__ import annotations

from local.aws.dynamodb_contention import ItemHolds

A, B, C = ("t", '{"pk": "a"}'), ("t", '{"pk": "b"}'), ("u", '{"pk": "a"}')


def test_held_items_are_reported_until_their_transaction_releases_them():
    # Given a transaction holding A and B
    holds = ItemHolds()
    owner = holds.hold([A, B], seconds=600)
    # Then A and B are held, and an item of the same key in another table is not
    assert holds.held([A, B, C]) == [True, True, False]
    # When it releases them, nothing is held and nothing is kept
    holds.release(owner)
    assert holds.held([A, B]) == [False, False]
    assert len(holds) == 0


def test_a_release_frees_only_its_own_transactions_items():
    holds = ItemHolds()
    first = holds.hold([A], seconds=600)
    holds.hold([B], seconds=600)
    holds.release(first)
    assert holds.held([A, B]) == [False, True]


def test_a_hold_whose_owner_never_released_it_expires_and_is_dropped():
    # Given a hold already past its deadline (its request's thread died before releasing it)
    holds = ItemHolds()
    holds.hold([A, B], seconds=0)
    # When the next request checks, the items are free and the entries are gone
    assert holds.held([A]) == [False]
    assert len(holds) == 0
