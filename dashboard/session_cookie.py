"""A signed, expiring cookie that keeps a password-signed-in admin signed in across reloads.

Streamlit keeps sign-in state per websocket session, so a reload used to sign the admin out.
The cookie holds ``payload.signature``: the payload is base64url JSON with the admin's name
(``u``), the expiry in Unix seconds (``exp``) and a random id (``n``); the signature is an
HMAC-SHA256 over the payload with a server-side key. The key mixes a random secret kept in
``$TDIR_HOME/admin/cookie-secret`` (created on first use, mode 0600) with the admin password, so
changing the password, or deleting that file, signs every browser out. If the data directory
cannot be written the key is derived from the password alone.

The server reads the cookie with ``st.context.cookies`` (sent with the page's first request);
the browser sets and clears it through a tiny script (``cookie_script``), since Streamlit has no
server-side way to set one. Signing out also revokes the cookie's id on the server (see
:mod:`dashboard.admin_store`), so a copy of it is refused even if the browser kept it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

COOKIE_NAME = "tdir_admin_session"
LIFETIME = 12 * 3600  # seconds a sign-in lasts without signing in again
_CONTEXT = b"tdir admin session cookie v1"


@dataclass(frozen=True)
class CookieSession:
    """What a valid cookie says: who, until when (Unix seconds), and its id."""

    user: str
    expires: int
    nonce: str


def secret_path(home: Path) -> Path:
    """Where the server-side secret lives."""
    return home / "admin" / "cookie-secret"


def _file_secret(home: Path) -> bytes | None:
    path = secret_path(home)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another session created it first
        return path.read_bytes()
    except OSError:
        return None
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as out:
        out.write(secret)
    return secret


def signing_key(home: Path, password: str) -> bytes:
    """The HMAC key for this data directory and admin password."""
    file_secret = _file_secret(home) or b""
    return hmac.new(file_secret + _CONTEXT, password.encode("utf-8"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def make_cookie(
    user: str,
    key: bytes,
    *,
    now: float | None = None,
    lifetime: int = LIFETIME,
    nonce: str | None = None,
) -> tuple[str, CookieSession]:
    """A signed cookie value for ``user``, and what it says."""
    now = time.time() if now is None else now
    session = CookieSession(
        user=user, expires=int(now) + lifetime, nonce=nonce or secrets.token_urlsafe(12)
    )
    body = json.dumps(
        {"u": session.user, "exp": session.expires, "n": session.nonce},
        separators=(",", ":"),
        ensure_ascii=True,
    )
    payload = _b64(body.encode("ascii"))
    return f"{payload}.{_signature(key, payload)}", session


def read_cookie(value: str | None, key: bytes, *, now: float | None = None) -> CookieSession | None:
    """What the cookie says, or None if it is missing, malformed, tampered with or expired."""
    if not value or value.count(".") != 1 or len(value) > 4096 or not value.isascii():
        return None
    payload, signature = value.split(".")
    if not hmac.compare_digest(
        signature.encode("ascii", "replace"), _signature(key, payload).encode()
    ):
        return None
    try:
        data = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    user, expires, nonce = data.get("u"), data.get("exp"), data.get("n")
    if not isinstance(user, str) or not user.strip() or not isinstance(nonce, str):
        return None
    if not isinstance(expires, int) or isinstance(expires, bool):
        return None
    if expires <= (time.time() if now is None else now):
        return None
    return CookieSession(user=user, expires=expires, nonce=nonce)


def cookie_script(value: str | None, expires: int = 0) -> str:
    """HTML whose script sets the cookie on the dashboard's page until ``expires`` (Unix
    seconds), or clears it (``value`` None).

    It runs in a same-origin component frame and writes the parent page's cookie, scoped to the
    whole site (``Path=/``) and never sent with cross-site requests (``SameSite=Strict``). The
    text depends only on the cookie, so redrawing it on every run does not reload the frame.
    """
    if value is None:
        attributes = f"{COOKIE_NAME}=; Path=/; Max-Age=0; SameSite=Strict"
    else:
        # The value is base64url and a dot: nothing in it needs quoting.
        when = formatdate(expires, usegmt=True)
        attributes = f"{COOKIE_NAME}={value}; Path=/; Expires={when}; SameSite=Strict"
    secure = "(window.parent.location.protocol === 'https:' ? '; Secure' : '')"
    return (
        "<script>(function(){var d=window.parent.document;"
        f"d.cookie={json.dumps(attributes)}+{secure};}})();</script>"
    )
