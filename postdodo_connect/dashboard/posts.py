"""Posts: the list of a workspace's posts (a placeholder until the posts pages land)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from .blueprint import bp
from .session import workspace_page


@bp.get("/w/<workspace_id>/posts")
@workspace_page
def posts(workspace: dict[str, Any]) -> Any:
    """The posts page."""
    return render_template("posts/index.html")
