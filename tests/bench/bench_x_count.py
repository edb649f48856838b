"""X preflight (`validate("x", ...)`) against the baseline of twitter-text's full parse of the same caption.

Run: ``python tests/bench/bench_x_count.py [--number N]``. Not collected by pytest.
The API checks every target's caption per request; the cheap bound and the ASCII shortcut spare most captions
the full parse (its per-character loop and emoji scan). The figure is the best of 5 runs of N calls each.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from twitter_text import parse_tweet  # noqa: E402

from postdodo_connect.platforms import validate  # noqa: E402

CAPTIONS = {
    "short ASCII with a link": "Launch day! https://example.com/blog & more",
    "280 ASCII characters": "a" * 280,
    "ASCII near the limit, bare link": "a" * 250 + " example.photography",
    "234 mixed (CJK, emoji, link)": "Launch day! Read more https://example.com/blog and check 日本語 😀 #launch " * 3,
    "short mixed": "日本語のテキスト 😀 https://example.jp",
}


def best(call: object, number: int) -> float:
    """Microseconds per call, best of 5."""
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=500)
    args = parser.parse_args()
    print(f"{'caption':34s} {'full parse':>11s} {'preflight':>10s} {'ratio':>7s}")
    for name, caption in CAPTIONS.items():
        base = best(lambda c=caption: parse_tweet(c), args.number)
        ours = best(lambda c=caption: validate("x", c, []), args.number)
        print(f"{name:34s} {base:9.1f}us {ours:8.1f}us {ours / base:7.3f}")


if __name__ == "__main__":
    main()
