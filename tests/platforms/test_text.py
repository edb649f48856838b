"""Caption counting units: graphemes, bytes, UTF-16, twitter-text weight, Mastodon length."""

from __future__ import annotations

import pytest

from postdodo_connect.platforms.text import (
    find_urls,
    graphemes,
    mastodon_length,
    utf8_bytes,
    utf16_units,
    x_weighted_length,
    x_weighted_length_at_most,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one ZWJ sequence, 25 bytes


@pytest.mark.parametrize(("text", "count"), [
    ("hello", 5), ("日本語", 3), ("😀", 1), (FAMILY, 1), ("🇩🇪", 1), ("1️⃣", 1), ("e\u0301", 1), ("👍🏽", 1), ("", 0),
])
def test_graphemes(text: str, count: int) -> None:
    assert graphemes(text) == count


def test_byte_and_utf16_lengths() -> None:
    assert utf8_bytes("aé日😀") == 1 + 2 + 3 + 4
    assert utf8_bytes(FAMILY) == 25
    assert utf16_units("aé日😀") == 1 + 1 + 1 + 2


@pytest.mark.parametrize(("text", "urls"), [
    ("Read https://example.com/blog. Now", ["https://example.com/blog"]),
    ("(see https://en.wikipedia.org/wiki/Foo_(bar))", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    ("bare example.com and www.example.de/x", ["example.com", "www.example.de/x"]),
    # twitter-text 3.x links short ccTLD domains without a path too (its conformance: "twitter.jp", "it.so")
    ("short ccTLD example.de and t.co", ["example.de", "t.co"]),
    ("new gTLDs: example.photography, shop.berlin/x, foo.museum", ["example.photography", "shop.berlin/x", "foo.museum"]),
    ("not a TLD: example.notatld and file.txt2", []),
    ("mail alice@example.com is no link", []),
    ("http://localhost:8000 is no link", []),
    ("two: http://a.io/x?q=1#f https://b.org", ["http://a.io/x?q=1#f", "https://b.org"]),
])
def test_find_urls(text: str, urls: list[str]) -> None:
    assert find_urls(text) == urls


def test_find_urls_without_bare_domains() -> None:
    assert find_urls("example.com and https://example.org", bare=False) == ["https://example.org"]


@pytest.mark.parametrize(("text", "weight"), [
    ("a" * 280, 280),
    ("日" * 140, 280),
    ("😀" * 140, 280),
    (FAMILY, 2),
    ("🇩🇪", 2),
    ("👍🏽", 2),
    ("e\u0301", 1),  # NFC makes one code point of it
    ("“quoted” – dash…", 17),  # quotes and dashes (8208-8223) are light, the ellipsis (8230) is not
    ("https://example.com/" + "p" * 200, 23),
    ("example.com", 23),
    ("example.de", 23),
    ("example.photography", 23),  # every IANA TLD, not a hand-picked few
    ("see example.photography now", 31),
    ("example.notatld", 15),
    ("a\r\nb", 3),  # a line break counts once
    ("Ünïcödé", 7),
    ("한국어", 6),
])
def test_x_weighted_length(text: str, weight: int) -> None:
    assert x_weighted_length(text) == weight


@pytest.mark.parametrize(("text", "length"), [
    ("a" * 500, 500),
    ("https://example.com/" + "p" * 200, 23),
    ("see example.com", 15),  # Mastodon only shortens URLs with a protocol
    ("@alice@mastodon.social hi", 9),
    ("@alice hi", 9),
    ("日本語😀" + FAMILY, 5),
    ("mail bob@example.com", 20),
])
def test_mastodon_length(text: str, length: int) -> None:
    assert mastodon_length(text) == length


@pytest.mark.parametrize("text", [
    "", "plain ascii", "a\r\nb\rc", "Launch day! https://example.com/blog & more", "日本語😀 https://x.co",
    "e\u0301" * 50, "\ufb2c" * 10, "Hi " + "🇩🇪" * 30 + " example.photography/path. Done.", "..." * 40,
])
def test_x_bound_is_never_below_the_exact_count(text: str) -> None:
    # preflight skips the exact count when the bound is within the limit, so it must never undercount
    assert x_weighted_length_at_most(text) >= x_weighted_length(text)


def test_x_ascii_shortcut_agrees_with_the_full_twitter_text_parse() -> None:
    import random

    from twitter_text import parse_tweet

    pieces = ["a", " ", ".", "\r\n", "\r", "#", "@", "example.com", "https://t.co/x", "foo.photography/p?q=1",
              "(x.io)", "a.b", "1.5", "mail bob@example.com", "1"]
    rng = random.Random(17)
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        assert x_weighted_length(text) == parse_tweet(text).weightedLength, text
