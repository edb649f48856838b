"""Caption counting in each platform's own unit: graphemes, bytes, UTF-16, twitter-text weight (twitter-text-parser)."""

from __future__ import annotations

import unicodedata

import regex
from twitter_text import extract_urls_with_indices, parse_tweet

__all__ = [
    "URL_LENGTH",
    "find_urls",
    "graphemes",
    "mastodon_length",
    "url_spans",
    "utf8_bytes",
    "utf16_units",
    "x_weighted_length",
    "x_weighted_length_at_most",
]

#: what X and Mastodon count for any URL, whatever its real length
URL_LENGTH = 23

_GRAPHEME = regex.compile(r"\X")

# twitter-text v3 weighs code points above U+10FF 2 (a few light ranges aside: over-counting is fine here)
_X_HEAVY = regex.compile(r"[^\x00-\u10ff]")
# Mastodon mention: @user or @user@domain, not inside a word or path
_MENTION = regex.compile(r"(?<![/\w])@(?P<user>[a-z0-9_]+)(?:@[\w.-]+\w)?", regex.IGNORECASE)


def graphemes(s: str) -> int:
    """User-perceived characters (extended grapheme clusters)."""
    return len(_GRAPHEME.findall(s))


def utf8_bytes(s: str) -> int:
    """Length in UTF-8 bytes."""
    return len(s.encode("utf-8"))


def utf16_units(s: str) -> int:
    """Length in UTF-16 code units (what JavaScript's `.length` says)."""
    return len(s.encode("utf-16-le")) // 2


def url_spans(s: str, *, bare: bool = True) -> list[tuple[int, int, str]]:
    """(start, end, url) of every URL in `s` as twitter-text finds it; bare domains only when `bare`."""
    # twitter-text checks every domain against its IANA TLD list (Mastodon links by the same extractor)
    found = extract_urls_with_indices(s, extract_urls_without_protocol=bare)
    return [(int(f["indices"][0]), int(f["indices"][1]), str(f["url"])) for f in found]


def find_urls(s: str, *, bare: bool = True) -> list[str]:
    """Every URL in `s` as a link detector would see it (http(s) URLs and, if `bare`, bare domains)."""
    return [url for _, _, url in url_spans(s, bare=bare)]


def x_weighted_length(s: str) -> int:
    """X's weighted length by twitter-text v3: NFC, URLs 23, emoji sequences 2, CJK and other heavy code points 2."""
    text = unicodedata.normalize("NFC", s).replace("\r\n", "\n")
    if text.isascii():
        # exact and far cheaper than the full parse: every ASCII code point outside a URL weighs 1, and
        # the URLs are twitter-text's own (its per-character loop and emoji scan cost ~10 us a character)
        spans = [f["indices"] for f in extract_urls_with_indices(text)] if "." in text else []
        return len(text) - sum(int(end) - int(start) for start, end in spans) + URL_LENGTH * len(spans)
    return int(parse_tweet(text).weightedLength)


def x_weighted_length_at_most(s: str) -> int:
    """A cheap upper bound of `x_weighted_length`: 1 per code point, 1 more per heavy one, 19 more per dot."""
    text = s if s.isascii() else unicodedata.normalize("NFC", s)
    # a URL counts 23 and has at least 4 characters ("t.co") and a dot; heavy code points weigh 2
    return len(text) + len(_X_HEAVY.findall(text)) + (URL_LENGTH - 4) * text.count(".")


def mastodon_length(s: str) -> int:
    """Mastodon's count: graphemes, every http(s) URL 23, `@user@domain` counted as `@user`."""
    parts: list[str] = []
    pos = 0
    # Mastodon only rewrites URLs that carry a protocol (extract_url_without_protocol: false)
    for start, end, _ in url_spans(s, bare=False):
        parts.append(s[pos:start])
        parts.append("x" * URL_LENGTH)
        pos = end
    parts.append(s[pos:])
    text = _MENTION.sub(lambda m: "@" + m.group("user"), "".join(parts))
    return graphemes(text)
