"""Form input into the API's own models, and refusals from the shared service functions back onto the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, flash, request
from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Response

from ..api.boundary import invalid
from ..errors import APIError
from .session import redirect_to

M = TypeVar("M", bound=BaseModel)


@dataclass
class MediaRow:
    """One media row of a form (the post's, or a thread item's)."""

    url: str = ""
    kind: str = "image"
    alt: str = ""

    @classmethod
    def stored(cls, media: dict[str, Any]) -> MediaRow:
        """A stored media item (`{url, type, alt}`) as its row."""
        return cls(media["url"], media.get("type") or "image", media.get("alt") or "")


def parse(model: type[M], data: dict[str, Any]) -> M:
    """`data` validated by the same model the API reads its JSON body into; a 400 InvalidRequestError if not."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from None


def text(name: str) -> str | None:
    """A form field, trimmed; None when empty."""
    value = request.form.get(name, "").strip()
    return value or None


def refused(error: APIError, endpoint: str, **values: Any) -> Response:
    """Show why the service refused, on the page the form came from; another workspace's id stays a 404."""
    if error.status == 404:
        abort(404)
    flash(error.message, "error")
    return redirect_to(endpoint, **values)
