"""The API on a fresh SQLite file per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.factory import Api, make_api


@pytest.fixture
def api(tmp_path: Path) -> Api:
    """An in-process API with an empty database."""
    return make_api(f"sqlite:///{tmp_path / 'api.db'}")


@pytest.fixture
def key(api: Api) -> str:
    """A pd_test_ key of a fresh sandbox workspace."""
    return api.new_key("main")
