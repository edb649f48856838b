"""Receiver fixtures: a private redis-server flushed per test, the app factory and a test client."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from receiver import create_app
from tests.receiver.helpers import SECRET, RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private redis-server for the receiver tests."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def rconn(redis_server: RedisServer) -> Iterator[Redis]:
    """A client on the private server, flushed before each test."""
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def make_app(redis_server: RedisServer, rconn: Redis) -> Callable[..., Flask]:
    """Build a receiver app on the private Redis; keyword arguments are test_config overrides."""

    def factory(**overrides: Any) -> Flask:
        config: dict[str, Any] = {"secrets": SECRET, "redis_url": redis_server.url, "job_retries": 0}
        config.update(overrides)
        return create_app(config)

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The receiver with post.published routed to the recording test job."""
    return make_app(routes="post.published=tests.receiver.jobs:record")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()
