"""The release artefacts: a wheel and an sdist that build, carry the typed asyncio client, and pass `twine check`."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import postdodo_connect

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_and_sdist_build_and_pass_twine_check(tmp_path: Path) -> None:
    """What docs/release.md uploads: `python -m build`, then `twine check --strict`."""
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=280)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    version = postdodo_connect.__version__
    wheel = tmp_path / f"postdodo_connect-{version}-py3-none-any.whl"
    sdist = tmp_path / f"postdodo_connect-{version}.tar.gz"
    assert wheel.is_file() and sdist.is_file()
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"postdodo_connect/py.typed", "postdodo_connect/client/aio.py", "postdodo_connect/client/_wire.py",
            "postdodo_connect/client/_calls.py"} <= names
    assert not any(name.startswith(("tests/", "integrations/")) for name in names)
    with tarfile.open(sdist) as archive:
        assert f"postdodo_connect-{version}/postdodo_connect/py.typed" in archive.getnames()
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2
