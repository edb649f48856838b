"""Composer: write and schedule a post (a placeholder until the composer lands)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from .blueprint import bp
from .session import workspace_page


@bp.get("/w/<workspace_id>/compose")
@workspace_page
def composer(workspace: dict[str, Any]) -> Any:
    """The composer page."""
    return render_template("posts/composer.html")
