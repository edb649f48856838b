"""The static files agree: services with the generated catalogue, translations with the code, the manifest and
the quality scale with Home Assistant's rules."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parents[1]
COMPONENT = HERE / "custom_components" / "postdodo"
GENERATED = HERE.parent / "generated"
STRINGS = json.loads((COMPONENT / "strings.json").read_text())

ALL_RULES = {
    "bronze": ["action-setup", "appropriate-polling", "brands", "common-modules", "config-flow",
               "config-flow-test-coverage", "dependency-transparency", "docs-actions", "docs-conditions",
               "docs-high-level-description", "docs-installation-instructions", "docs-removal-instructions",
               "docs-triggers", "entity-event-setup", "entity-unique-id", "has-entity-name", "runtime-data",
               "test-before-configure", "test-before-setup", "unique-config-entry"],
    "silver": ["action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
               "docs-installation-parameters", "entity-unavailable", "integration-owner", "log-when-unavailable",
               "parallel-updates", "reauthentication-flow", "test-coverage"],
    "gold": ["devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update", "docs-examples",
             "docs-known-limitations", "docs-supported-devices", "docs-supported-functions", "docs-troubleshooting",
             "docs-use-cases", "dynamic-devices", "entity-category", "entity-device-class",
             "entity-disabled-by-default", "entity-translations", "exception-translations", "icon-translations",
             "reconfiguration-flow", "repair-issues", "stale-devices"],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}


def _generated(name: str) -> Path:
    path = GENERATED / name
    if not path.exists():
        pytest.skip(f"{path} is not generated (run `postdodo export`)")
    return path


def test_services_yaml_is_the_generated_one() -> None:
    """services.yaml is a copy of the catalogue's export: copy it again after `postdodo export`."""
    generated = yaml.safe_load(_generated("homeassistant-services.yaml").read_text())
    assert yaml.safe_load((COMPONENT / "services.yaml").read_text()) == generated, (
        "copy integrations/generated/homeassistant-services.yaml to custom_components/postdodo/services.yaml")


def test_services_strings_are_the_generated_ones() -> None:
    """The services section of strings.json is the catalogue's export."""
    generated = json.loads(_generated("homeassistant-strings.json").read_text())["services"]
    assert STRINGS["services"] == generated, (
        "copy the services of integrations/generated/homeassistant-strings.json into strings.json and en.json")


def test_registered_services_are_declared() -> None:
    """Every action in services.yaml is registered by services.py, and the other way round."""
    from custom_components.postdodo import services

    declared = set(yaml.safe_load((COMPONENT / "services.yaml").read_text()))
    registered = {getattr(services, name) for name in dir(services) if name.startswith("SERVICE_")}
    assert declared == registered


def test_english_translation_is_strings_json() -> None:
    """Custom integrations are translated from translations/en.json; it must equal strings.json."""
    assert json.loads((COMPONENT / "translations" / "en.json").read_text()) == STRINGS


def test_every_translation_key_in_code_exists() -> None:
    """Each translation_key raised in the code has a message, with the placeholders it is given."""
    exceptions = STRINGS["exceptions"]
    used: set[str] = set()
    for source in COMPONENT.glob("*.py"):
        text = source.read_text()
        used |= set(re.findall(r'translation_key="([a-z_]+)"', text))
        used |= set(re.findall(r'_(?:invalid|failed)\("([a-z_]+)"', text))
    issues = {"webhook_url_unavailable", "webhook_refused"}
    entities = {key for platform in STRINGS["entity"].values() for key in platform}
    used -= entities
    assert used - issues <= set(exceptions), sorted(used - issues - set(exceptions))
    assert issues <= set(STRINGS["issues"])
    for key, value in exceptions.items():
        assert key in used, f"unused exception message {key}"
        assert value["message"].strip()


def test_entity_translations_cover_states() -> None:
    """Every sensor option and event type has a translated name."""
    from custom_components.postdodo.const import ACCOUNT_STATUSES, EVENT_TYPES, TARGET_STATUSES

    sensors = STRINGS["entity"]["sensor"]
    assert set(sensors["last_post"]["state"]) == set(TARGET_STATUSES)
    assert set(sensors["account_status"]["state"]) == set(ACCOUNT_STATUSES)
    events = STRINGS["entity"]["event"]["post_events"]["state_attributes"]["event_type"]["state"]
    assert set(events) == set(EVENT_TYPES)
    icons = json.loads((COMPONENT / "icons.json").read_text())
    assert set(icons["services"]) == set(STRINGS["services"])
    assert set(icons["entity"]["sensor"]) == set(sensors)


def test_manifest() -> None:
    """The keys hassfest and HACS require, sorted as hassfest wants (domain, name, then alphabetical)."""
    manifest = json.loads((COMPONENT / "manifest.json").read_text())
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"] and keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == COMPONENT.name == "postdodo"
    assert manifest["config_flow"] is True
    assert manifest["integration_type"] == "service" and manifest["iot_class"] == "cloud_push"
    assert manifest["dependencies"] == ["webhook"]
    for key in ("version", "codeowners", "documentation", "issue_tracker"):
        assert manifest[key]
    hacs = json.loads((HERE / "hacs.json").read_text())
    assert hacs["name"] == manifest["name"]
    assert (COMPONENT / "brand" / "icon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_unpublished_requirement() -> None:
    """Stock Home Assistant installs the requirements from the package index: only pydantic (which Home Assistant
    pins itself); the client is the vendored copy, rendered by `postdodo export` from this repository's library."""
    manifest = json.loads((COMPONENT / "manifest.json").read_text())
    assert manifest["requirements"] == ["pydantic>=2.7"]
    project = tomllib.loads((HERE.parents[1] / "pyproject.toml").read_text())["project"]
    from custom_components.postdodo import _postdodo_client

    assert _postdodo_client.__version__ == project["version"]
    assert (COMPONENT / "_postdodo_client" / "py.typed").exists()


def test_component_imports_only_home_assistant_and_its_copy() -> None:
    """No module of the component imports the library or a blocking HTTP client (the copy is all it needs)."""
    for source in COMPONENT.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for name in names:
                assert name.split(".")[0] not in ("postdodo_connect", "requests", "urllib3"), (source, name)


def test_quality_scale_lists_every_rule() -> None:
    """Every rule up to gold is done or exempt with a reason; the platinum ones are done."""
    rules = yaml.safe_load((COMPONENT / "quality_scale.yaml").read_text())["rules"]
    assert set(rules) == {rule for tier in ALL_RULES.values() for rule in tier}
    for tier in ("bronze", "silver", "gold"):
        for name in ALL_RULES[tier]:
            rule = rules[name]
            status = rule if isinstance(rule, str) else rule["status"]
            assert status in ("done", "exempt"), name
            if status == "exempt":
                assert rule["comment"], name
    for name in ALL_RULES["platinum"]:
        assert rules[name]["status"] == "done" and rules[name]["comment"], name


def test_hacs_repository_layout() -> None:
    """integrations/homeassistant is the root of the HACS repository (docs/release.md publishes it with
    `git subtree split`): hacs.json and README.md at the root, one integration in custom_components/<domain>/,
    everything it runs on inside that folder, brand icon included."""
    hacs = json.loads((HERE / "hacs.json").read_text())
    assert set(hacs) <= {"name", "homeassistant", "hacs", "render_readme", "country", "hide_default_branch"}
    assert hacs["name"] == "PostDodo" and "zip_release" not in hacs and "content_in_root" not in hacs
    tested = "2025.4.4"  # the Home Assistant the harness and the smoke test run
    assert tuple(map(int, hacs["homeassistant"].split("."))) <= tuple(map(int, tested.split(".")))
    assert (HERE / "README.md").is_file()
    domains = [p.name for p in (HERE / "custom_components").iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert domains == ["postdodo"]
    assert (COMPONENT / "brand" / "icon.png").is_file()
    assert not any(p.is_symlink() for p in COMPONENT.rglob("*"))  # HACS downloads files, not links
