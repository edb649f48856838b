"""Smoke test against a real Home Assistant: `hass` with the component copied in as HACS would, onboarded and
configured over its REST API, posting through `postdodo.create_post` to a real `postdodo serve`.

Run by smoke.sh with Home Assistant's Python (the venv test.sh builds); prints how long each phase took.
Usage: python smoke.py <project python with postdodo-connect>
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
COMPONENT = HERE / "custom_components" / "postdodo"
START_TIMEOUT = 120.0  # Home Assistant's first start writes its storage and sets up the http stack
EVENT_TIMEOUT = 60.0
CLIENT_ID_PATH = "/"

CONFIGURATION = """\
homeassistant:
  name: PostDodo smoke test
  internal_url: http://127.0.0.1:{port}
  time_zone: UTC
  unit_system: metric
  latitude: 0
  longitude: 0
  elevation: 0
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
onboarding:
websocket_api:
webhook:
logger:
  default: warning
  logs:
    custom_components.postdodo: debug
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Phases:
    """Wall-clock time of each named phase, printed as it ends."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.times: list[tuple[str, float]] = []

    async def run(self, name: str, step: Awaitable[Any]) -> Any:
        begin = time.monotonic()
        result = await step
        self.times.append((name, time.monotonic() - begin))
        print(f"  {name:<44} {self.times[-1][1]:6.2f} s", flush=True)
        return result

    def total(self) -> float:
        return time.monotonic() - self.started


async def wait_for(check: Callable[[], Awaitable[Any]], what: str, timeout: float) -> Any:
    """Poll ``check`` until it returns something truthy, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = await check()
        except (aiohttp.ClientError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.2)


def start_postdodo(python: str, workdir: Path) -> tuple[subprocess.Popen[str], str, str]:
    """`postdodo serve` on a free port with its demo workspace; webhooks to 127.0.0.1 allowed."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    env |= {"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1", "PYTHONUNBUFFERED": "1",
            "POSTDODO_DATABASE_URL": f"sqlite:///{workdir / 'postdodo.db'}"}
    proc = subprocess.Popen([python, "-m", "postdodo_connect", "serve", "--port", str(port)], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    key, output, deadline = None, "", time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("postdodo serve exited:\n" + output)
        output += line
        if found := re.search(r"(pd_test_[A-Za-z0-9]+)", line):
            key = found.group(1)
        if "listening on" in line:
            break
    assert key, "postdodo serve printed no demo key:\n" + output
    # keep draining its output so the pipe never fills up
    asyncio.get_running_loop().run_in_executor(None, lambda: [None for _ in proc.stdout])  # type: ignore[union-attr]
    return proc, f"http://127.0.0.1:{port}", key


def start_hass(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`hass -c <config>` with the component in custom_components, copied as HACS installs it."""
    config.mkdir(parents=True)
    (config / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
    shutil.copytree(COMPONENT, config / "custom_components" / "postdodo",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    hass = Path(sys.executable).with_name("hass")
    return subprocess.Popen([str(hass), "-c", str(config), "--log-file", str(log)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)


async def onboard(http: aiohttp.ClientSession, base: str) -> str:
    """Create the owner over the onboarding API and trade its auth code for an access token."""
    client_id = base + CLIENT_ID_PATH
    async with http.post(f"{base}/api/onboarding/users", json={
            "client_id": client_id, "name": "Smoke", "username": "smoke", "password": "smoke-test-password",
            "language": "en"}) as response:
        assert response.status == 200, await response.text()
        code = (await response.json())["auth_code"]
    async with http.post(f"{base}/auth/token", data={"grant_type": "authorization_code", "code": code,
                                                     "client_id": client_id}) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


async def add_entry(http: aiohttp.ClientSession, base: str, headers: dict[str, str], api: str, key: str) -> str:
    """The config flow over REST, as the UI drives it: start, submit URL and key, get the entry."""
    async with http.post(f"{base}/api/config/config_entries/flow", headers=headers,
                         json={"handler": "postdodo", "show_advanced_options": False}) as response:
        assert response.status == 200, await response.text()
        form = await response.json()
    assert form["type"] == "form" and form["step_id"] == "user", form
    async with http.post(f"{base}/api/config/config_entries/flow/{form['flow_id']}", headers=headers,
                         json={"url": api, "api_key": key}) as response:
        assert response.status == 200, await response.text()
        done = await response.json()
    assert done["type"] == "create_entry", done
    return str(done["result"]["entry_id"])


async def subscribe(http: aiohttp.ClientSession, base: str, token: str,
                    events: list[str]) -> tuple[aiohttp.ClientWebSocketResponse, asyncio.Queue[dict[str, Any]]]:
    """A websocket API connection subscribed to ``events``; their data lands on the returned queue."""
    ws = await http.ws_connect(f"{base}/api/websocket")
    assert (await ws.receive_json())["type"] == "auth_required"
    await ws.send_json({"type": "auth", "access_token": token})
    assert (await ws.receive_json())["type"] == "auth_ok"
    for number, event in enumerate(events, start=1):
        await ws.send_json({"id": number, "type": "subscribe_events", "event_type": event})
        assert (await ws.receive_json())["success"]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def pump() -> None:
        async for message in ws:
            data = message.json()
            if data.get("type") == "event":
                await queue.put(data["event"])

    asyncio.get_running_loop().create_task(pump())
    return ws, queue


async def main(project_python: str) -> None:
    phases = Phases()
    work = Path(tempfile.mkdtemp(prefix="postdodo-ha-smoke-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = work / "home-assistant.log"
    server: subprocess.Popen[str] | None = None
    hass: subprocess.Popen[bytes] | None = None
    ok = False
    try:
        server, api, key = await phases.run("postdodo serve started", _start_postdodo_async(project_python, work))
        hass = start_hass(work / "config", port, log)
        async with aiohttp.ClientSession() as http:
            async def up() -> bool:
                if hass is not None and hass.poll() is not None:
                    raise AssertionError(f"hass exited with {hass.returncode}")
                async with http.get(f"{base}/api/onboarding") as response:
                    return response.status == 200
            await phases.run("hass started (REST answers)", wait_for(up, "Home Assistant's HTTP API", START_TIMEOUT))
            token = await phases.run("onboarded: owner user and token", onboard(http, base))
            headers = {"Authorization": f"Bearer {token}"}
            entry_id = await phases.run("config entry added via config flow", add_entry(http, base, headers, api, key))

            async def loaded() -> bool:
                async with http.get(f"{base}/api/config/config_entries/entry", headers=headers) as response:
                    entries = await response.json()
                return any(e["entry_id"] == entry_id and e["state"] == "loaded" for e in entries)
            await phases.run("entry loaded", wait_for(loaded, "the entry to load", 30))
            ws, events = await subscribe(http, base, token, ["postdodo_post_published", "postdodo_post_completed"])

            async def create() -> dict[str, Any]:
                async with http.post(f"{base}/api/services/postdodo/create_post?return_response", headers=headers,
                                     json={"caption": "Smoke test from a real Home Assistant",
                                           "account_ids": ["bluesky:demo_bluesky"]}) as response:
                    assert response.status == 200, await response.text()
                    return dict((await response.json())["service_response"])
            post = await phases.run("postdodo.create_post with response", create())
            assert post["id"].startswith("post_") and post["status"] in ("publishing", "published"), post

            async def bus_events() -> dict[str, dict[str, Any]]:
                seen: dict[str, dict[str, Any]] = {}
                deadline = time.monotonic() + EVENT_TIMEOUT
                while len(seen) < 2:
                    event = await asyncio.wait_for(events.get(), timeout=max(0.1, deadline - time.monotonic()))
                    if event["data"].get("post_id") == post["id"]:
                        seen[event["event_type"]] = event["data"]
                return seen
            seen = await phases.run("webhook events on HA's bus", bus_events())
            published = seen["postdodo_post_published"]
            assert published["status"] == "confirmed" and published["permalink"], published
            assert seen["postdodo_post_completed"]["sequence"] > published["sequence"]

            async def confirmed() -> dict[str, Any]:
                async with http.get(f"{api}/v1/posts/{post['id']}",
                                    headers={"Authorization": f"Bearer {key}"}) as response:
                    return dict(await response.json())
            final = await phases.run("post confirmed on the API side", confirmed())
            assert final["status"] == "published" and final["targets"][0]["status"] == "confirmed", final
            assert final["targets"][0]["permalink"] == published["permalink"]

            async def entity() -> dict[str, Any] | None:
                async with http.get(f"{base}/api/states/event.demo_bluesky_bluesky_post_events",
                                    headers=headers) as response:
                    state = await response.json()
                return state if state.get("attributes", {}).get("event_type") == "completed" else None
            state = await phases.run("event entity on completed", wait_for(entity, "the event entity", 10))
            assert state["attributes"]["post_id"] == post["id"]
            await ws.close()
        ok = True
    finally:
        stop_started = time.monotonic()
        if hass is not None and hass.poll() is None:
            os.killpg(hass.pid, signal.SIGTERM)
            try:
                hass.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(hass.pid, signal.SIGKILL)
                hass.wait()
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        print(f"  {'stopped hass and postdodo serve':<44} {time.monotonic() - stop_started:6.2f} s")
        if not ok and log.exists():
            print("--- home-assistant.log (tail) ---\n" + "\n".join(log.read_text().splitlines()[-80:]))
        shutil.rmtree(work, ignore_errors=True)
    print(f"  {'total':<44} {phases.total():6.2f} s")


async def _start_postdodo_async(python: str, work: Path) -> tuple[subprocess.Popen[str], str, str]:
    return start_postdodo(python, work)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
