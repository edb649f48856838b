"""`postdodo posts import FILE.csv`: every row validated first, all-or-nothing, repeat-safe, fast enough."""

from __future__ import annotations

import csv
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from postdodo_connect import Client
from postdodo_connect.cli import main
from postdodo_connect.cli.posts import read_rows
from tests.support.server import Server

MEDIA = "https://picsum.photos/id/237/1080/1080"


@pytest.fixture
def run(live_server: Server, capsys: pytest.CaptureFixture[str]) -> Any:
    def runner(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--base-url", live_server.url, "--api-key", live_server.key or ""])
        out, err = capsys.readouterr()
        return code, out, err

    return runner


def post_count(client: Client) -> int:
    return sum(1 for _ in client.posts.list())


def future(hours: float = 5) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, rows: list[list[str]], header: tuple[str, ...] = ("caption", "accounts",
                                                                            "scheduled_at", "media")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_bad_rows_are_all_reported_and_nothing_is_created(run: Any, client: Client, accounts: dict[str, str],
                                                          tmp_path: Path) -> None:
    before = post_count(client)
    path = write_csv(tmp_path / "bad.csv", [
        ["fine", accounts["x"], future(), ""],                                   # line 2: good
        ["no picture", accounts["instagram"], future(), ""],                     # line 3: instagram needs media
        ["naive", accounts["x"], "2030-01-01T09:00:00", ""],                     # line 4: no offset
        ["who", "bob", "", ""],                                                  # line 5: not an account id
        ["multi\nline caption", f"{accounts['x']};acct_nope", future(), ""],     # lines 6-7: unknown account
        ["", accounts["bluesky"], "", ""],                                       # line 8: empty post
        ["fine", accounts["x"], future(), "ftp://nope"],                         # line 9: bad media URL
        ["x" * 400, accounts["x"], future(), ""],                                # line 10: too long for X
    ])
    code, out, err = run("posts", "import", str(path), "--json")
    assert code == 1
    assert "nothing was created" in err
    problems = json.loads(out)["problems"]
    lines = {int(p.split(":")[0].removeprefix("line ")) for p in problems}
    assert lines == {3, 4, 5, 6, 8, 9, 10}
    text = "\n".join(problems)
    assert "instagram" in text and "timezone" in text and "'bob'" in text and "acct_nope" in text
    assert post_count(client) == before


def test_file_level_problems(run: Any, tmp_path: Path) -> None:
    typo = write_csv(tmp_path / "typo.csv", [["hi", "acct_x", "", ""]],
                     header=("caption", "accounts", "schedule_at", "media"))
    code, _, err = run("posts", "import", str(typo))
    assert code == 1 and "unknown column(s) schedule_at" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert read_rows(empty)[1] == ["line 1: the file is empty; the first line must name the columns"]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("caption,accounts\nhi,acct_a,extra\n\n\nok,acct_b\n")
    rows, problems = read_rows(ragged)
    assert problems == [] and [r.line for r in rows] == [2, 5] and rows[0].problems and not rows[1].problems


def test_import_then_rerun_creates_nothing_twice(run: Any, client: Client, accounts: dict[str, str],
                                                 tmp_path: Path) -> None:
    when = future(6)
    path = write_csv(tmp_path / "good.csv", [
        [f"import row {i}", f"{accounts['x']} {accounts['bluesky']}", when, ""] for i in range(5)
    ] + [["with a picture", accounts["instagram"], when, MEDIA]])
    before = post_count(client)
    code, out, err = run("posts", "import", str(path), "--dry-run")
    assert code == 0 and "all 6 rows are valid" in err and post_count(client) == before
    code, out, err = run("posts", "import", str(path))
    assert code == 0, err
    assert "6 rows: 6 created, 0 already existed, 0 failed" in out
    assert "creating: 6/6" in err  # the progress indicator
    assert post_count(client) == before + 6
    code, out, _ = run("posts", "import", str(path), "--json")
    assert code == 0
    summary = json.loads(out)
    assert (summary["created"], summary["existing"], summary["failed"]) == (0, 6, 0)
    assert post_count(client) == before + 6
    assert [r["line"] for r in summary["rows"]] == [2, 3, 4, 5, 6, 7]


def test_duplicate_rows_are_refused(run: Any, accounts: dict[str, str], tmp_path: Path) -> None:
    row = ["same", accounts["x"], future(), ""]
    code, out, err = run("posts", "import", str(write_csv(tmp_path / "dup.csv", [row, row])))
    assert code == 1 and "line 3: repeats line 2" in err


@pytest.mark.slow
def test_a_thousand_rows(run: Any, client: Client, accounts: dict[str, str], tmp_path: Path) -> None:
    when = future(24)
    path = write_csv(tmp_path / "big.csv", [[f"bulk {i}", accounts["mastodon"], when, ""] for i in range(1000)])
    before = post_count(client)
    started = time.monotonic()
    code, out, err = run("posts", "import", str(path), "--json")
    elapsed = time.monotonic() - started
    assert code == 0, err
    assert json.loads(out)["created"] == 1000
    assert post_count(client) == before + 1000
    assert elapsed < 120, f"1,000 rows took {elapsed:.1f}s"


def test_a_row_the_api_cannot_read_is_reported_with_its_line(run: Any, accounts: dict[str, str],
                                                            tmp_path: Path) -> None:
    path = write_csv(tmp_path / "huge.csv", [["ok", accounts["x"], future(), ""],
                                             ["y" * 100_001, accounts["bluesky"], future(), ""]])
    code, out, err = run("posts", "import", str(path), "--json")
    assert code == 1
    assert [p.split(":")[0] for p in json.loads(out)["problems"]] == ["line 3"]


def test_a_reimported_row_shows_the_posts_status_now(run: Any, client: Client, accounts: dict[str, str],
                                                     tmp_path: Path) -> None:
    path = write_csv(tmp_path / "one.csv", [["reimport shows now", accounts["x"], future(7), ""]])
    code, out, _ = run("posts", "import", str(path), "--json")
    first = json.loads(out)["rows"][0]
    assert code == 0 and first["status"] == "scheduled"
    client.posts.cancel(first["post_id"])
    code, out, _ = run("posts", "import", str(path), "--json")
    again = json.loads(out)["rows"][0]
    assert (again["post_id"], again["result"], again["status"]) == (first["post_id"], "existing", "canceled")
