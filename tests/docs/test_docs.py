"""Run every block of README.md and docs/*.md marked `<!-- doc-test -->` against a real `postdodo serve`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.blocks import ROOT, Block, Context, doc_files, find_blocks, report, run_block
from tests.support.server import Server, free_port

BLOCKS = [block for path in doc_files() for block in find_blocks(path)]


@pytest.fixture(scope="module")
def workdirs(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """One working directory per page: its blocks run in order and see each other's files."""
    return {path: tmp_path_factory.mktemp(path.stem) for path in doc_files()}


@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_doc_block_runs_as_written(block: Block, live_server: Server, workdirs: dict[Path, Path]) -> None:
    """The block exits as its marker says (0 unless `exit=N`) within its time limit."""
    assert live_server.key
    ctx = Context(live_server.url, live_server.key, live_server.env["POSTDODO_DATABASE_URL"], workdirs[block.path],
                  free_port(), free_port())
    outcome = run_block(block, ctx)
    assert outcome.returncode == block.exit_code, report(block, outcome)
    missing = [text for text in block.expect if text not in outcome.stdout]
    assert not missing, f"stdout lacks {missing}\n" + report(block, outcome)


def test_every_page_with_a_runnable_example_is_covered() -> None:
    """The pages a user runs commands from keep at least one marked block, so the harness cannot go quiet."""
    covered = {block.path.relative_to(ROOT).as_posix() for block in BLOCKS}
    expected = {"README.md", "docs/api.md", "docs/automation.md", "docs/deployment.md", "docs/cli.md", "docs/client.md", "docs/receiver.md",
                "docs/webhooks.md"}
    assert expected <= covered, f"no doc-test block in {sorted(expected - covered)}"


def test_a_marker_must_precede_a_fence(tmp_path: Path) -> None:
    """A marker that does not sit right above a bash/python fence is reported, not silently ignored."""
    page = tmp_path / "page.md"
    page.write_text("<!-- doc-test -->\n\ntext\n")
    with pytest.raises(ValueError, match="not followed by"):
        find_blocks(page)


def test_an_unknown_option_is_refused(tmp_path: Path) -> None:
    """A misspelt option (`exits=1`) is an error, not a block that silently expects exit 0."""
    page = tmp_path / "page.md"
    page.write_text("<!-- doc-test: exits=1 -->\n```bash\nfalse\n```\n")
    with pytest.raises(ValueError, match="unknown doc-test option"):
        find_blocks(page)


def test_failure_report_names_the_block_and_its_output(tmp_path: Path) -> None:
    """A failing block's message gives file:line, the block and both streams."""
    page = tmp_path / "page.md"
    page.write_text("intro\n<!-- doc-test -->\n```bash\necho out; echo err >&2; false\n```\n")
    (block,) = find_blocks(page)
    ctx = Context("http://127.0.0.1:9", "pd_test_x", "sqlite:///unused.db", tmp_path)
    outcome = run_block(block, ctx)
    assert outcome.returncode == 1
    text = report(block, outcome)
    assert "echo out" in text and "--- stdout ---\nout\n" in text and "--- stderr ---\nerr\n" in text


def test_a_block_is_bounded_and_leaves_nothing_running(tmp_path: Path) -> None:
    """A block past its time limit is stopped, and so is what it started in the background."""
    page = tmp_path / "page.md"
    page.write_text("<!-- doc-test: timeout=1 -->\n```bash\nsleep 60 & echo $! > bg.pid\nsleep 60\n```\n")
    (block,) = find_blocks(page)
    outcome = run_block(block, Context("http://127.0.0.1:9", "pd_test_x", "sqlite:///unused.db", tmp_path))
    assert outcome.returncode is None
    assert "timed out after 1.0s" in report(block, outcome)
    background = int((tmp_path / "bg.pid").read_text())
    assert not Path(f"/proc/{background}").exists() or "Z" in Path(f"/proc/{background}/stat").read_text().split()[2]
