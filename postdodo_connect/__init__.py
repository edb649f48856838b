"""postdodo-connect: the PostDodo posting API, its client, webhook verification and automation catalogue."""

from __future__ import annotations

__version__ = "0.1.0"
