"""Exporters: deterministic bytes, `postdodo export --check`, Zapier JSON against Zapier's published schema,
n8n and Home Assistant structure."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

import postdodo_connect
from postdodo_connect.automation import ACTIONS, TRIGGERS, export, homeassistant, n8n, zapier
from postdodo_connect.cli import main
from tests.support.server import Server

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "integrations" / "generated"
VENDORED = ROOT / "integrations" / export.VENDOR_DIR
# packages/schema/exported-schema.json of the npm package zapier-platform-schema@19.1.0, vendored as data
ZAPIER_SCHEMA = Path(__file__).parent / "data" / "zapier-platform-schema-19.1.0.json"


def test_render_is_deterministic_across_processes() -> None:
    assert export.render_all() == export.render_all()
    code = ("import hashlib, json; from postdodo_connect.automation import export; "
            "print(json.dumps({k: hashlib.sha256(v).hexdigest() for k, v in export.render_all().items()}))")
    digests = []
    for seed in ("1", "2"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                             timeout=60).stdout
        digests.append(json.loads(out))
    assert digests[0] == digests[1] == {k: hashlib.sha256(v).hexdigest() for k, v in export.render_all().items()}


def test_check_passes_on_the_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert export.default_out_dir() == COMMITTED
    assert main(["export", "--check"]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in COMMITTED.iterdir()) == sorted(export.FILES)


def test_check_fails_on_a_tampered_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "generated"
    shutil.copytree(COMMITTED, copy)
    shutil.copytree(VENDORED, tmp_path / export.VENDOR_DIR, ignore=shutil.ignore_patterns("__pycache__"))
    assert main(["export", "--check", "--out", str(copy)]) == 0
    (copy / "zapier-definition.json").write_text("{}\n")
    (copy / "homeassistant-services.yaml").unlink()
    capsys.readouterr()
    assert main(["export", "--check", "--out", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "zapier-definition.json" in err and "homeassistant-services.yaml" in err and "n8n" not in err
    assert main(["export", "--out", str(copy)]) == 0
    assert main(["export", "--check", "--out", str(copy)]) == 0
    assert export.write(copy) == []  # nothing to do the second time


# -- Zapier -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zapier_schemas() -> tuple[dict[str, Any], Registry]:
    schemas: dict[str, Any] = json.loads(ZAPIER_SCHEMA.read_text(encoding="utf-8"))["schemas"]
    registry: Registry = Registry().with_resources(
        (schema["id"], Resource(schema, specification=DRAFT4)) for schema in schemas.values())
    return schemas, registry


def errors_of(schemas: tuple[dict[str, Any], Registry], name: str, instance: Any) -> list[str]:
    validator = Draft4Validator(schemas[0][name], registry=schemas[1])
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(instance)]


def test_zapier_definition_matches_the_published_schema(zapier_schemas: tuple[dict[str, Any], Registry]) -> None:
    definition = json.loads((COMMITTED / "zapier-definition.json").read_text(encoding="utf-8"))
    assert definition == zapier.render()
    assert errors_of(zapier_schemas, "AuthenticationSchema", definition["authentication"]) == []
    for section, schema in (("triggers", "TriggerSchema"), ("creates", "CreateSchema"), ("searches", "SearchSchema")):
        assert definition[section], section
        for key, item in definition[section].items():
            assert errors_of(zapier_schemas, schema, item) == [], (section, key)
    app = {"version": "0.1.0", "platformVersion": "19.1.0", **definition}
    assert errors_of(zapier_schemas, "AppSchema", app) == []


def test_the_schema_check_has_teeth(zapier_schemas: tuple[dict[str, Any], Registry]) -> None:
    bad = zapier.render()["triggers"]["post_published"]
    bad["operation"]["type"] = "webhook"
    assert errors_of(zapier_schemas, "TriggerSchema", bad)
    create = zapier.render()["creates"]["create_post"]
    create["operation"]["inputFields"][0]["type"] = "markdown"
    assert errors_of(zapier_schemas, "CreateSchema", create)


def test_zapier_functional_constraints() -> None:
    """The JS-only checks of zapier-platform-schema, re-done here."""
    definition = zapier.render()
    triggers = definition["triggers"]
    for section in ("triggers", "creates", "searches"):
        for key, item in definition[section].items():
            operation, display = item["operation"], item["display"]
            assert item["key"] == key  # matchingKeys
            assert display.get("hidden") or (operation.get("sample") and 2 <= len(display["label"]) <= 64)
            fields = operation.get("inputFields", [])
            assert len({f["key"] for f in fields}) == len(fields)  # uniqueInputFieldKeys
            for field in fields:
                assert not ("dynamic" in field and "choices" in field)  # mutuallyExclusiveFields
                if "dynamic" in field:
                    source, value_key, label_key = field["dynamic"].split(".")
                    assert source in triggers and triggers[source]["display"].get("hidden")
                    assert {value_key, label_key} <= set(triggers[source]["operation"]["sample"])
            outputs = operation.get("outputFields", [])
            assert [o["key"] for o in outputs if o.get("primary")] == ["id"]
            if section == "triggers":
                assert "id" in operation["sample"]  # trigger-has-id


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_zapier_function_sources_compile(tmp_path: Path) -> None:
    script = tmp_path / "compile.js"
    script.write_text(
        "const def = require(process.argv[2]);\n"
        "const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;\n"
        "let n = 0;\nconst walk = (o) => { if (!o || typeof o !== 'object') return;\n"
        "  if (typeof o.source === 'string') { new AsyncFunction(...(o.args || ['z', 'bundle']), o.source); n++;"
        " return; }\n  Object.values(o).forEach(walk); };\nwalk(def);\nconsole.log(n);\n")
    out = subprocess.run(["node", str(script), str(COMMITTED / "zapier-definition.json")], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 10


# -- n8n --------------------------------------------------------------------------------------------------


def test_n8n_properties() -> None:
    rendered = n8n.render()
    assert json.loads((COMMITTED / "n8n-properties.json").read_text(encoding="utf-8")) == rendered
    props = rendered["node"]["properties"]
    resource = props[0]
    assert resource["name"] == "resource"
    resources = [o["value"] for o in resource["options"]]
    operations = {p["displayOptions"]["show"]["resource"][0]: p for p in props if p["name"] == "operation"}
    assert set(operations) == set(resources)
    for prop in props:
        assert {"displayName", "name", "type", "default"} <= set(prop), prop
        if "options" in prop:
            names = [o["name"] for o in prop["options"]]
            assert names == sorted(names), prop["name"]  # the n8n linter wants sorted options
        show = prop.get("displayOptions", {}).get("show", {})
        if "operation" in show:
            ops = {o["value"] for o in operations[show["resource"][0]]["options"]}
            assert set(show["operation"]) <= ops
        method = prop.get("typeOptions", {}).get("loadOptionsMethod")
        if method:
            assert method in rendered["node"]["loadOptions"]
    for action in ACTIONS:
        resource_name, op = n8n.operation_of(action)
        names = {p["name"] for p in props if p.get("displayOptions", {}).get("show", {}).get("operation") == [op]
                 and p["displayOptions"]["show"]["resource"] == [resource_name]}
        assert names == {n8n.parameter_name(f.key) for f in action.fields}
    events = rendered["trigger"]["properties"][0]
    assert {o["value"] for o in events["options"]} == {t.event for t in TRIGGERS if t.kind == "webhook"}


# -- Home Assistant ---------------------------------------------------------------------------------------


def test_homeassistant_services_and_strings() -> None:
    yaml = pytest.importorskip("yaml")
    services = yaml.safe_load((COMMITTED / "homeassistant-services.yaml").read_text(encoding="utf-8"))
    assert services == homeassistant.render_services()
    strings = json.loads((COMMITTED / "homeassistant-strings.json").read_text(encoding="utf-8"))["services"]
    assert set(services) == set(strings) == {a.key for a in ACTIONS}
    for name, service in services.items():
        assert set(service["fields"]) == set(strings[name]["fields"])
        assert service["fields"]["config_entry_id"]["selector"] == {"config_entry": {"integration": "postdodo"}}
        for field in service["fields"].values():
            assert len(field["selector"]) == 1
        assert strings[name]["name"] and strings[name]["description"]


def test_yaml_writer_quotes_what_needs_quoting() -> None:
    yaml = pytest.importorskip("yaml")
    tricky = {"a": "yes", "b": "12", "c": "x: y", "d": "", "e": None, "f": [1, "two", {"g": True}], "h": {},
              "i": "line\nbreak", "j": "Ünïcode"}
    assert yaml.safe_load(homeassistant.to_yaml(tricky)) == tricky


def test_vendored_client_is_the_library_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The Home Assistant component's copy is the library's modules, byte for byte but for the header and
    imports; a hand edit, a missing module or a stray file makes `export --check` fail."""
    rendered = export.render_vendored()
    for name in export.VENDORED_MODULES:
        source = (ROOT / "postdodo_connect" / name).read_text(encoding="utf-8")
        copy = rendered[name].decode().split("\n", 1)[1]
        strip = re.compile(r"^from \.*[\w.]* import .*$|^from postdodo_connect[\w.]* import .*$", re.M)
        assert strip.sub("", copy) == strip.sub("", source), name
        assert "postdodo_connect" not in re.sub(r"#.*|\"\"\".*?\"\"\"", "", copy, flags=re.S), name
    shutil.copytree(COMMITTED, tmp_path / "generated")
    vendor = tmp_path / export.VENDOR_DIR
    shutil.copytree(VENDORED, vendor, ignore=shutil.ignore_patterns("__pycache__"))
    assert export.check(tmp_path / "generated") == []
    (vendor / "client" / "aio.py").write_text("# edited by hand\n")
    (vendor / "errors.py").unlink()
    (vendor / "leftover.py").write_text("")
    stale = export.check(tmp_path / "generated")
    base = str(export.VENDOR_DIR)
    assert sorted(stale) == [f"{base}/client/aio.py", f"{base}/errors.py", f"{base}/leftover.py"]
    export.write(tmp_path / "generated")
    assert export.check(tmp_path / "generated") == [] and not (vendor / "leftover.py").exists()


VENDORED_USE = """
import asyncio, importlib.util, sys
for blocked in ("postdodo_connect", "requests", "flask", "sqlalchemy"):
    sys.modules[blocked] = None  # the copy must stand alone
spec = importlib.util.spec_from_file_location("_postdodo_client", sys.argv[1] + "/__init__.py",
                                              submodule_search_locations=[sys.argv[1]])
client_pkg = importlib.util.module_from_spec(spec)
sys.modules["_postdodo_client"] = client_pkg
spec.loader.exec_module(client_pkg)
import aiohttp

async def main():
    async with aiohttp.ClientSession() as session:
        client = client_pkg.AsyncClient(sys.argv[3], base_url=sys.argv[2], session=session, user_agent="vendored")
        accounts = await client.accounts.list()
        try:
            await client_pkg.AsyncClient("pd_test_nope", base_url=sys.argv[2], session=session).accounts.list()
        except client_pkg.AuthenticationError as exc:
            print(len(accounts), exc.status, client_pkg.__version__)

asyncio.run(main())
"""


def test_vendored_client_works_without_the_library(live_server: Server) -> None:
    """What Home Assistant loads: the copy alone, on aiohttp and pydantic, against a real server."""
    out = subprocess.run([sys.executable, "-c", VENDORED_USE, str(VENDORED), live_server.url, str(live_server.key)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    count, status, version = out.stdout.split()
    assert int(count) >= 4 and status == "401" and version == postdodo_connect.__version__


def test_check_from_an_installed_wheel_says_it_needs_a_checkout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Outside a checkout, `export --check` says what it needs instead of calling every file out of date."""
    monkeypatch.setattr(export, "_checkout_root", lambda: None)  # what a wheel in site-packages sees
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--check"]) == 2
    err = capsys.readouterr().err
    assert "checkout" in err and "--out DIR" in err and "out of date" not in err
    assert main(["export", "--check", "--out", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    shutil.copytree(COMMITTED, tmp_path / "integrations" / "generated")  # run from a checkout's folder
    shutil.copytree(VENDORED, tmp_path / "integrations" / export.VENDOR_DIR, ignore=shutil.ignore_patterns("__pycache__"))
    assert main(["export", "--check"]) == 0, capsys.readouterr().err
