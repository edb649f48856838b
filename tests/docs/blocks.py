"""Find the code blocks of README.md and docs/*.md marked `<!-- doc-test -->` and run them as a user would."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.server import wait_until

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^\s*<!--\s*doc-test:?(?P<options>[^>]*?)-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>\w+)\s*$")
LANGUAGES = {"bash", "python"}
DEFAULT_TIMEOUT = 30.0
# Prepended to shell blocks: an HTTP error answer fails the block (curl alone exits 0 on a 400), body shown.
BASH_PRELUDE = 'curl() { command curl --fail-with-body --no-progress-meter "$@"; }\n'


@dataclass(frozen=True)
class Block:
    """One marked block: where it is, its language, its text and the marker's options."""

    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    exit_code: int = 0
    timeout: float = DEFAULT_TIMEOUT
    env: dict[str, str] = field(default_factory=dict)
    file: str | None = None  # `file=PATH`: the block is that file's content, written for later blocks, not run
    http_errors: bool = False  # `http-errors=ok`: the block shows error answers on purpose; curl may get a 4xx
    expect: tuple[str, ...] = ()  # `expect="text"`: each must appear in the block's stdout

    @property
    def name(self) -> str:
        """`docs/client.md:19`, the block's id in test output."""
        where = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{where}:{self.line}"


def doc_files() -> list[Path]:
    """README.md and every page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def parse_options(text: str) -> dict[str, list[str]]:
    """`exit=1 timeout=60 env=A=b expect="some text"` -> {"exit": ["1"], ...}; every option may repeat."""
    options: dict[str, list[str]] = {}
    for word in shlex.split(text):
        key, _, value = word.partition("=")
        options.setdefault(key, []).append(value)
    return options


def find_blocks(path: Path) -> list[Block]:
    """The marked blocks of one Markdown file; a marker not followed by a bash/python fence is an error."""
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    in_fence = False  # a marker shown inside a code block (as in development.md) is an example, not a marker
    for number, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        marker = None if in_fence else MARKER.match(line)
        if not marker:
            continue
        fence = FENCE.match(lines[number + 1]) if number + 1 < len(lines) else None
        if not fence or fence["lang"] not in LANGUAGES:
            raise ValueError(f"{path}:{number + 1}: doc-test marker not followed by a ```bash or ```python fence")
        indent = len(fence["indent"])
        body: list[str] = []
        for inner in lines[number + 2:]:
            if inner.strip() == "```":
                break
            body.append(inner[indent:])
        else:
            raise ValueError(f"{path}:{number + 2}: unterminated fence")
        options = parse_options(marker["options"])
        unknown = set(options) - {"exit", "timeout", "env", "file", "http-errors", "expect"}
        if unknown:
            raise ValueError(f"{path}:{number + 1}: unknown doc-test option(s) {sorted(unknown)}")
        one = {key: values[-1] for key, values in options.items()}
        blocks.append(Block(path, number + 2, fence["lang"], "\n".join(body) + "\n",
                            int(one.get("exit", "0")), float(one.get("timeout", DEFAULT_TIMEOUT)),
                            dict(pair.split("=", 1) for pair in options.get("env", [])), one.get("file"),
                            one.get("http-errors") == "ok", tuple(options.get("expect", []))))
    return blocks


@dataclass(frozen=True)
class Context:
    """What every block gets: the server, its key, a working directory shared by one page's blocks."""

    base_url: str  # http://127.0.0.1:PORT
    api_key: str
    database_url: str
    workdir: Path
    receiver_port: int = 8081  # the docs' receiver port, moved to a free one so parallel runs cannot clash
    redis_port: int = 6390  # the port of the Redis receiver.md starts for itself, likewise


def substitute(code: str, ctx: Context) -> str:
    """Point the docs' localhost:8080 and `pd_test_...` placeholder at the test's server and key."""
    host = ctx.base_url.removeprefix("http://")
    code = re.sub(r"(?:localhost|127\.0\.0\.1):8080", host, code)
    code = re.sub(r"(127\.0\.0\.1:|--port )8081\b", rf"\g<1>{ctx.receiver_port}", code)
    code = re.sub(r"(127\.0\.0\.1:|--port |-p )6390\b", rf"\g<1>{ctx.redis_port}", code)
    return code.replace("pd_test_...", ctx.api_key)


def block_env(ctx: Context, block: Block) -> dict[str, str]:
    """A user's shell: the venv first on PATH, the one key variable and base URL, no test settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    venv_bin = str(Path(sys.executable).parent)
    env.update({
        "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
        "VIRTUAL_ENV": str(Path(venv_bin).parent),
        "POSTDODO_API_KEY": ctx.api_key,
        "POSTDODO_BASE_URL": ctx.base_url,
        "POSTDODO_DATABASE_URL": ctx.database_url,
        "PYTHONUNBUFFERED": "1",
        "HOME": str(ctx.workdir),
    })
    env.update(block.env)
    return env


@dataclass(frozen=True)
class Outcome:
    """How a block ended."""

    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str


def run_block(block: Block, ctx: Context) -> Outcome:
    """Run one block in its own process group; whatever it left running in the background is stopped after."""
    if block.file:
        target = ctx.workdir / block.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.code)
        return Outcome(0, "", "")
    script = ctx.workdir / (".doc-block.sh" if block.lang == "bash" else ".doc-block.py")
    prelude = BASH_PRELUDE if block.lang == "bash" and not block.http_errors else ""
    script.write_text(prelude + substitute(block.code, ctx))
    argv = ["bash", "-euo", "pipefail", str(script)] if block.lang == "bash" else [sys.executable, str(script)]
    out_path, err_path = ctx.workdir / ".doc-block.out", ctx.workdir / ".doc-block.err"
    # Files, not pipes: a background process the block starts would hold a pipe open past the block's end.
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(argv, cwd=ctx.workdir, env=block_env(ctx, block), stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err, start_new_session=True)
        try:
            returncode: int | None = process.wait(timeout=block.timeout)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            _stop_group(process)
    return Outcome(returncode, out_path.read_text(), err_path.read_text())


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the block's process group (servers it left in the background), SIGKILL what outlives 5 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            wait_until(lambda: not _group_alive(process), timeout=5, what="the block's processes to stop")
            break
        except AssertionError:
            continue
    process.wait(timeout=5)


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    """Whether a process of the block's group still runs (zombies left for init to reap do not count)."""
    process.poll()  # reap the leader, or it counts as alive
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel, zombies included
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited while we looked
        if int(fields[2]) == process.pid and fields[0] != "Z":
            return True
    return False


def report(block: Block, outcome: Outcome) -> str:
    """The failure message: where the block is, what it ran, what it printed."""
    ended = f"timed out after {block.timeout}s" if outcome.returncode is None else f"exit {outcome.returncode}"
    return (f"{block.name} ({block.lang}) {ended}, expected exit {block.exit_code}\n"
            f"--- block ---\n{block.code}--- stdout ---\n{outcome.stdout}--- stderr ---\n{outcome.stderr}")
