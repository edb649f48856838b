"""The automation catalogue: PostDodo's actions and triggers, defined once and exported to each shell.

``ACTIONS`` and ``TRIGGERS`` are plain data (see ``model``); ``export`` renders them for Zapier,
n8n and Home Assistant. docs/automation.md describes both.
"""

from __future__ import annotations

from .catalogue import ACTIONS, CATALOGUE_VERSION, TRIGGERS, action, event_items, split_values, trigger
from .model import Action, Field, Http, Output, Trigger

__all__ = [
    "ACTIONS",
    "CATALOGUE_VERSION",
    "TRIGGERS",
    "Action",
    "Field",
    "Http",
    "Output",
    "Trigger",
    "action",
    "event_items",
    "split_values",
    "trigger",
]
