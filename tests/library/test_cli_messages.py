"""What the CLI says without a server: plain words for a missing key, bad --fault and times, defaults in --help."""

from __future__ import annotations

import pytest

from postdodo_connect.cli import main
from receiver.cli import main as receiver_main

DEAD = "http://127.0.0.1:9"


def test_no_key_says_which_variable_and_option(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("POSTDODO_API_KEY", raising=False)
    assert main(["posts", "list", "--base-url", DEAD]) == 2
    assert capsys.readouterr().err == ("error: no API key: set POSTDODO_API_KEY or use --api-key "
                                       "(`postdodo keys create` makes one)\n")


def test_a_time_without_offset_is_refused_in_plain_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["posts", "create", "--caption", "x", "--account", "acct_1", "--at", "2030-01-01 09:00",
                 "--base-url", DEAD, "--api-key", "pd_test_x"]) == 1
    err = capsys.readouterr().err
    assert "no timezone; add an offset (Z or +02:00)" in err and "aware" not in err and "datetime" not in err


@pytest.mark.parametrize(("fault", "said"), [
    ("latncy_ms=5", "--fault latncy_ms: no such fault; the faults are latency_ms, rate_limit_rate, retry_after,"),
    ("rate_limit_rate=2", "--fault rate_limit_rate=2: the value must be from 0 to 1"),
    ("latency_ms=fast", "--fault latency_ms='fast': the value must be a number from 0 to 60000"),
])
def test_fault_errors_list_the_faults_before_any_request(fault: str, said: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # DEAD: a request would be a connection error (exit 2); the local check answers first (exit 1)
    assert main(["accounts", "add", "x", "--handle", "h", "--fault", fault, "--base-url", DEAD,
                 "--api-key", "pd_test_x"]) == 1
    assert capsys.readouterr().err.startswith(f"error: {said}")


@pytest.mark.parametrize(("argv", "shown"), [
    (["serve"], ["--port PORT           port to listen on (default: 8080)", "(default: 127.0.0.1)"]),
    (["posts", "list"], ["per-request timeout (default: 30.0)", "how many posts (default 20)"]),
    (["posts", "create"], ["how long to wait (default: 120.0)"]),
])
def test_help_shows_defaults(argv: list[str], shown: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and all(text in out for text in shown)
    assert "(default: None)" not in out and "(default: False)" not in out


def test_receiver_help_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        receiver_main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "(default: 8081)" in out and "(default: 2)" in out
