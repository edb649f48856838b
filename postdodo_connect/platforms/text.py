"""Caption counting in each platform's own unit: graphemes, bytes, UTF-16, twitter-text weight."""

from __future__ import annotations

import unicodedata

import regex

__all__ = [
    "URL_LENGTH",
    "find_urls",
    "graphemes",
    "mastodon_length",
    "url_spans",
    "utf8_bytes",
    "utf16_units",
    "x_weighted_length",
]

#: what X and Mastodon count for any URL, whatever its real length
URL_LENGTH = 23

_GRAPHEME = regex.compile(r"\X")

# Generic TLDs a bare domain may end in; any two-letter ccTLD is accepted too (twitter-text keeps a
# full IANA list; this short one covers what people actually type).
_GTLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|name|pro|io|ai|app|dev|blog|shop|social|online|site|xyz|"
    "tech|store|news|cloud|page|link|live|art|design|club|space|website|email|media|studio|world|"
    "today|agency|digital|network|systems|solutions|academy|coop|museum|travel|jobs|mobi|tel|asia|"
    "eu|berlin|london|nyc|paris|tokyo"
)
_DOMAIN = r"(?:[\p{L}\p{N}](?:[\p{L}\p{N}_-]{0,61}[\p{L}\p{N}])?\.)+(?:" + _GTLDS + r"|[a-z]{2})"
_PATH = r"(?:[/?#][^\s<>\"]*)?"
_URL = regex.compile(
    # a protocol URL anywhere; a bare domain only when not glued to a word, an @ or a dot before it
    r"(?P<proto>https?://[^\s<>\"/?#]+" + _PATH + r")"
    r"|(?<![\p{L}\p{N}@.$#_/-])(?P<bare>" + _DOMAIN + r"(?::\d{1,5})?" + _PATH + r")(?![\p{L}\p{N}@])",
    regex.IGNORECASE,
)
# twitter-text: "example.de" (one label + ccTLD, no path) is not a link, except t.co
_SHORT_CCTLD = regex.compile(r"[\p{L}\p{N}_-]+\.[a-z]{2}(?::\d+)?", regex.IGNORECASE)
# trailing punctuation that ends a sentence rather than the URL
_TRAILING = ".,;:!?'\"*"

# twitter-text v3: code points in these ranges weigh 100, everything else the default 200
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_SCALE, _X_DEFAULT_WEIGHT = 100, 200
_EMOJI_CLUSTER = regex.compile(
    r"\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F|\uFE0F\u20E3|\p{Regional_Indicator}{2}"
    r"|\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\u200D)"
)

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


def _clean_end(url: str) -> str:
    """Drop sentence punctuation and an unbalanced closing parenthesis from a URL's end."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def url_spans(s: str, *, bare: bool = True) -> list[tuple[int, int, str]]:
    """(start, end, url) of every URL in `s`; bare domains only when `bare` (twitter-text style)."""
    spans: list[tuple[int, int, str]] = []
    for match in _URL.finditer(s):
        url = match.group("proto") or match.group("bare")
        if not match.group("proto"):
            if not bare:
                continue
            plain = url.split("/")[0]
            if _SHORT_CCTLD.fullmatch(plain) and "/" not in url and plain.lower() != "t.co":
                continue
        url = _clean_end(url)
        if "." not in url.split("://")[-1].split("/")[0]:
            continue  # "http://localhost" is no link for twitter-text
        spans.append((match.start(), match.start() + len(url), url))
    return spans


def find_urls(s: str, *, bare: bool = True) -> list[str]:
    """Every URL in `s` as a link detector would see it (http(s) URLs and, if `bare`, bare domains)."""
    return [url for _, _, url in url_spans(s, bare=bare)]


def _x_char_weight(ch: str) -> int:
    """twitter-text v3 weight of one code point."""
    cp = ord(ch)
    return 100 if any(lo <= cp <= hi for lo, hi in _X_LIGHT) else _X_DEFAULT_WEIGHT


def x_weighted_length(s: str) -> int:
    """X's weighted length: NFC, URLs 23, emoji sequences 2, CJK and other heavy code points 2."""
    text = unicodedata.normalize("NFC", s)
    weight = 0
    pos = 0
    for start, end, _ in url_spans(text):
        weight += _x_weight_plain(text[pos:start]) + URL_LENGTH * _X_SCALE
        pos = end
    weight += _x_weight_plain(text[pos:])
    # twitter-text reports the scaled sum divided back by the scale, rounded down
    return weight // _X_SCALE


def _x_weight_plain(text: str) -> int:
    """Weighted sum (scaled by 100) of text without URLs."""
    total = 0
    for cluster in _GRAPHEME.findall(text):
        if _EMOJI_CLUSTER.search(cluster):
            total += _X_DEFAULT_WEIGHT  # a whole emoji sequence (ZWJ, flags, skin tones) weighs 2
        else:
            total += sum(_x_char_weight(ch) for ch in cluster)
    return total


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
