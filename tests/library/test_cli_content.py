"""The CLI's content options (`--alt`, `--platform-caption`, `--first-comment`) and the CSV import's content columns."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from postdodo_connect import Client
from postdodo_connect.cli import main
from postdodo_connect.cli.csv_import import read_rows
from tests.support.server import Server

MEDIA = "https://picsum.photos/id/237/1080/1080"
BASE = "http://api.test"
POST_ANSWER = {"id": "post_1", "status": "scheduled", "caption": "c", "scheduled_at": "2030-04-01T09:00:00Z",
               "media": [], "targets": [], "created_at": "2030-03-30T17:12:03Z"}


@pytest.fixture
def run(live_server: Server, capsys: pytest.CaptureFixture[str]) -> Any:
    def runner(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--base-url", live_server.url, "--api-key", live_server.key or ""])
        out, err = capsys.readouterr()
        return code, out, err

    return runner


def later(hours: float = 3) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@responses.activate
def test_create_sends_alt_texts_platform_captions_and_first_comment(capsys: pytest.CaptureFixture[str]) -> None:
    responses.post(f"{BASE}/v1/posts", status=201, json=POST_ANSWER)
    code = main(["posts", "create", "--caption", "Base", "--account", "acct_x", "--account", "acct_bs",
                 "--at", "2030-04-01T09:00:00Z", "--media", "https://cdn.test/a.jpg", "--media",
                 "https://cdn.test/clip.mp4", "--alt", "A jar of jam", "--alt", "Jam being made",
                 "--platforms", '{"x": {"options": {"reply_settings": "following"}}}',
                 "--platform-caption", "x=Short, for X", "--platform-caption", "Bluesky=Longer = better",
                 "--first-comment", "Recipe: https://example.com/jam", "--json",
                 "--base-url", BASE, "--api-key", "pd_test_abc"])
    assert code == 0, capsys.readouterr().err
    assert json.loads(responses.calls[0].request.body) == {
        "caption": "Base", "account_ids": ["acct_x", "acct_bs"], "scheduled_at": "2030-04-01T09:00:00Z",
        "media": [{"type": "image", "url": "https://cdn.test/a.jpg", "alt": "A jar of jam"},
                  {"type": "video", "url": "https://cdn.test/clip.mp4", "alt": "Jam being made"}],
        "platforms": {"x": {"options": {"reply_settings": "following"}, "caption": "Short, for X"},
                      "bluesky": {"caption": "Longer = better"}},
        "first_comment": "Recipe: https://example.com/jam",
    }


def test_bad_platform_caption_flags_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for bad, says in (("myspace=hi", "'myspace' is not a platform"), ("just text", "is not PLATFORM=TEXT")):
        with pytest.raises(SystemExit) as info:
            main(["posts", "create", "--caption", "c", "--account", "acct_x", "--platform-caption", bad,
                  "--base-url", BASE, "--api-key", "pd_test_abc"])
        assert info.value.code == 2 and says in capsys.readouterr().err


def test_create_with_content_options_on_a_live_server(run: Any, client: Client, accounts: dict[str, str]) -> None:
    code, out, err = run("posts", "create", "--caption", "cli base", "--account", accounts["x"], "--account",
                         accounts["mastodon"], "--at", later(), "--media", MEDIA, "--alt", "A black puppy",
                         "--platform-caption", "x=cli for x", "--first-comment", "cli comment", "--json")
    assert code == 0, err
    post = json.loads(out)
    content = {t["platform"]: t["content"] for t in post["targets"]}
    assert content["x"]["caption"] == "cli for x" and content["mastodon"]["caption"] == "cli base"
    assert content["mastodon"]["media"][0]["alt"] == "A black puppy"
    assert content["x"]["first_comment"] == content["mastodon"]["first_comment"] == "cli comment"
    code, out, err = run("posts", "update", post["id"], "--platform-caption", "mastodon=edited for mastodon",
                         "--first-comment", "edited comment", "--json")
    assert code == 0, err
    content = {t["platform"]: t["content"] for t in json.loads(out)["targets"]}
    assert content["mastodon"]["caption"] == "edited for mastodon" and content["x"]["caption"] == "cli base"
    assert content["x"]["first_comment"] == "edited comment"
    client.posts.cancel(post["id"])


# -- CSV import --------------------------------------------------------------------------------------------

HEADER = ["caption", "accounts", "scheduled_at", "media", "media_alt", "caption_x", "caption_bluesky",
          "first_comment"]


def test_csv_content_columns_create_the_right_post(run: Any, client: Client, accounts: dict[str, str],
                                                   tmp_path: Path) -> None:
    when = later(8)
    path = write_csv(tmp_path / "content.csv", HEADER, [
        ["Jam day", f"{accounts['x']} {accounts['bluesky']} {accounts['mastodon']}", when,
         f"{MEDIA} https://cdn.test/b.png", "A jar of jam, on a table|", "Jam day on X", "Jam day, long version",
         "Recipe inside"],
    ])
    code, out, err = run("posts", "import", str(path), "--json")
    assert code == 0, err
    post = client.posts.get(json.loads(out)["rows"][0]["post_id"])
    assert [(m.url, m.alt) for m in post.media] == [(MEDIA, "A jar of jam, on a table"), ("https://cdn.test/b.png",
                                                                                          None)]
    captions = {t.platform: t.content.caption for t in post.targets if t.content}
    assert captions == {"x": "Jam day on X", "bluesky": "Jam day, long version", "mastodon": "Jam day"}
    assert post.first_comment == "Recipe inside"
    client.posts.cancel(post.id)


def test_csv_thread_columns_become_the_thread_of_the_body(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "thread.csv", ["caption", "accounts", "thread_1", "thread_2", "thread_10"], [
        ["1/ Jam", "acct_x", "2/ Sugar, fruit", "3/ Jars", ""],
        ["no thread", "acct_x", "", "", ""],
        ["gap", "acct_x", "2/ here", "", "11/ too far"],
    ])
    rows, problems = read_rows(path)
    assert problems == []
    assert rows[0].body == {"caption": "1/ Jam", "account_ids": ["acct_x"],
                            "thread": [{"caption": "2/ Sugar, fruit"}, {"caption": "3/ Jars"}]}
    assert rows[1].body == {"caption": "no thread", "account_ids": ["acct_x"]}
    assert rows[2].body is None and rows[2].problems == ["thread_10: thread_2 is empty (the items go in order)"]


def test_bad_content_cells_are_reported_by_line_and_nothing_is_created(run: Any, client: Client,
                                                                       accounts: dict[str, str],
                                                                       tmp_path: Path) -> None:
    before = sum(1 for _ in client.posts.list())
    when = later(9)
    path = write_csv(tmp_path / "bad.csv", HEADER, [
        ["fine", accounts["x"], when, "", "", "", "", ""],                               # line 2: good
        ["alts", accounts["x"], when, MEDIA, "one|two", "", "", ""],                     # line 3: 2 alts, 1 media
        ["not here", accounts["x"], when, "", "", "", "bluesky only", ""],               # line 4: untargeted
        ["long", accounts["x"], when, "", "", "x" * 400, "", ""],                        # line 5: too long for X
        ["alt", accounts["mastodon"], when, MEDIA, "y" * 2000, "", "", ""],              # line 6: alt too long
    ])
    code, out, err = run("posts", "import", str(path), "--json")
    assert code == 1 and "nothing was created" in err
    problems = json.loads(out)["problems"]
    assert {int(p.split(":")[0].removeprefix("line ")) for p in problems} == {3, 4, 5, 6}
    text = "\n".join(problems)
    assert "line 3: media_alt: 2 alt texts for 1 media URLs" in text and "bluesky" in text
    assert sum(1 for _ in client.posts.list()) == before


def test_unknown_platform_caption_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "typo.csv", ["caption", "accounts", "caption_myspace", "thread_0"], [["a", "acct_x",
                                                                                                    "b", "c"]])
    rows, problems = read_rows(path)
    assert rows == [] and problems[0].startswith("line 1: unknown column(s) caption_myspace, thread_0;")
    assert "caption_<platform>" in problems[0]
