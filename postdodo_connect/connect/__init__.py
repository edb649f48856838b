"""Connect sessions: the OAuth 2 / PKCE flow and the hosted credential forms (DESIGN §2).

`flow.Connector` runs a session (start, callback, picker, form); `security` holds its tamper-proof parts
(the signed state, the form's CSRF token, PKCE verifiers, the redirect allowlist). Each platform's endpoints
and scopes live with its adapter (`platforms/<name>.py`, `oauth = OAuthSpec(...)`).
"""

from __future__ import annotations

from .flow import CALLBACK_PATH, FORM_PATH, Connector, kind_of

__all__ = ["CALLBACK_PATH", "FORM_PATH", "Connector", "kind_of"]
