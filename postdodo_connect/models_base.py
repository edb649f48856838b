"""The wire models' building blocks: time formats, text rules, the input and output model bases."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticCustomError

__all__ = ["MAX_TARGETS", "InputTime", "Line", "Text", "Time", "format_time"]

MAX_TARGETS = 100


def format_time(value: datetime) -> str:
    """ISO 8601 UTC with `Z`; milliseconds only when there are any."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat() cut to size, not strftime nor isoformat(timespec=): every API answer formats a few times
    text = value.isoformat()  # YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00
    return text[:23] + "Z" if value.microsecond else text[:19] + "Z"


# Output times always leave as `...Z`; input times must carry an offset (AwareDatetime refuses naive ones).
Time = Annotated[AwareDatetime, PlainSerializer(format_time, return_type=str, when_used="json")]

# NUL reaches no database (PostgreSQL refuses it in text, SQLite would store it) and other C0 controls
# make no sense in names and ids; a caption keeps tab, line feed and carriage return
_CONTROLS = r"\x00-\x1f\x7f"
_CAPTION_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_HAS_CONTROL = re.compile(f"[{_CONTROLS}]")
_HAS_CAPTION_CONTROL = re.compile(f"[{_CAPTION_CONTROLS}]")


def _refuse(pattern: re.Pattern[str]) -> AfterValidator:
    def check(value: str) -> str:
        if pattern.search(value):
            raise PydanticCustomError("control_characters", "must not contain NUL or other control characters")
        return value

    return AfterValidator(check)


#: one line of text: names, ids, handles, descriptions, tokens
Line = Annotated[str, _refuse(_HAS_CONTROL), Field(json_schema_extra={"pattern": f"^[^{_CONTROLS}]*$"})]
#: free text: a caption (tab and line breaks allowed)
Text = Annotated[str, _refuse(_HAS_CAPTION_CONTROL), Field(json_schema_extra={"pattern": f"^[^{_CAPTION_CONTROLS}]*$"})]


_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d[Tt ]")


def _iso_only(value: Any) -> Any:
    # pydantic would read 1700000000 and "1700000000" as Unix times
    if not isinstance(value, datetime) and not (isinstance(value, str) and _ISO_DATE.match(value)):
        raise PydanticCustomError("datetime_format", "must be an ISO 8601 time with an offset, like 2030-01-01T09:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    try:  # "0001-01-01T00:00:00+01:00" is before year 1 in UTC: no datetime can hold it
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_out_of_range", "is out of range (years 1 to 9999 in UTC)") from None


#: an input time: ISO 8601 with an offset, as a string (never a Unix timestamp), held in UTC
InputTime = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_iso_only), AfterValidator(_in_utc),
                      PlainSerializer(format_time, return_type=str, when_used="json")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Input(BaseModel):
    # unknown fields are refused so a typo ("schedule_at") never silently publishes now
    # strict: no "1" for 1, no 0 for false, no Unix number for a time; the docs ask for the real type
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, strict=True)
