"""The cheap caption bounds that let preflight skip exact counting never undercount, so no long caption slips by."""

from __future__ import annotations

import random

import pytest

from postdodo_connect.platforms import REGISTRY, Media, get

PIECES = ["a", " ", "http://", "https://", "x.co", ".", "/", "@bob@inst.social", "🎉", "👨‍👩‍👧", "e\u0301", "example.com",
          "t.co/x", "漢", "\n", "#tag", "(", ")"]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_bound_is_never_below_the_exact_length(name: str) -> None:
    adapter = get(name)
    rng = random.Random(name)
    for _ in range(3000):
        caption = "".join(rng.choice(PIECES) for _ in range(rng.randrange(60)))
        bound = adapter.caption_length_at_most(caption)
        assert bound is None or bound >= adapter.caption_length(caption), caption


@pytest.mark.parametrize("name", ["bluesky", "mastodon"])
def test_a_caption_just_over_the_limit_is_still_refused(name: str) -> None:
    adapter = get(name)
    over = "🎉" * (adapter.max_caption + 1)
    assert [p.rule for p in adapter.validate(over, [Media(type="image", url="https://example.com/a.png")])][:1] == \
        [f"{name}.caption.max_graphemes" if name == "bluesky" else f"{name}.caption.max_length"]
