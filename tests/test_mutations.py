"""The mutation check's breaks still apply to the code (the check itself runs in .ci/run)."""

from __future__ import annotations

from tests.mutations import MUTATIONS, check_applicable


def test_every_break_applies_to_exactly_one_place() -> None:
    assert check_applicable() == []


def test_there_are_at_least_thirteen_breaks_across_the_project() -> None:
    assert len(MUTATIONS) >= 13
    assert any(m.path.startswith("frontend/") for m in MUTATIONS)
    assert any("/server/" in m.path for m in MUTATIONS)
