"""Who may open the admin area, decided from configuration alone.

Three modes, in order of preference:

- ``oidc``: an ``[auth]`` section in Streamlit's secrets configures OpenID Connect sign-in
  (``st.login``). Signing in proves who someone is; ``admin_emails`` in the secrets says who of
  them is an admin. Without that list nobody is, because an identity provider such as a public
  one would otherwise let anyone with an account in.
- ``password``: ``admin_password`` in the secrets, or the ``TDIR_ADMIN_PASSWORD`` environment
  variable. The comparison takes constant time. Failed attempts are counted on the server
  (:mod:`dashboard.admin_store`), per account and per client address, so a reload gives no
  fresh tries; a signed-in admin stays signed in across reloads through a signed, expiring
  cookie (:mod:`dashboard.session_cookie`). Sign-ins, failures and sign-outs go to the audit
  log (:mod:`dashboard.audit`).
- ``closed``: neither is configured, so the admin area cannot be opened at all.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard import audit
from dashboard.admin_store import AdminStore, account_key, client_key
from dashboard.session_cookie import (
    COOKIE_NAME,
    CookieSession,
    cookie_script,
    make_cookie,
    read_cookie,
    signing_key,
)
from tdir.config import Settings

AuthMode = Literal["oidc", "password", "closed"]
PASSWORD_ENV = "TDIR_ADMIN_PASSWORD"
SESSION_KEY = "tdir_admin_signed_in"
NAME_KEY = "tdir_admin_name"  # who signed in with the shared password, as they said
COOKIE_KEY = "tdir_admin_cookie"  # (cookie value, what it says) this session keeps set
CLEAR_COOKIE_KEY = "tdir_admin_clear_cookie"  # signed out: the browser must drop the cookie
REFUSED_KEY = "tdir_admin_refused_cookie"  # a cookie already found invalid in this session
AFTER_SIGN_IN = "tdir_after_sign_in"  # the next run opens the admin area
SignInResult = Literal["ok", "wrong", "locked"]
log = logging.getLogger(__name__)
_OIDC_SHARED = {"redirect_uri", "cookie_secret", "expose_tokens"}


@dataclass(frozen=True)
class AdminAccess:
    """How admins sign in here. ``password`` never appears in a repr."""

    mode: AuthMode
    password: str | None = field(default=None, repr=False)
    providers: tuple[str | None, ...] = ()  # None: the [auth] section itself is the provider
    admin_emails: frozenset[str] = frozenset()


def read_secrets() -> Mapping[str, Any]:
    """Streamlit's secrets as a mapping; empty when no secrets file exists."""
    try:
        return st.secrets.to_dict()
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        return {}


def admin_access(secrets: Mapping[str, Any], env: Mapping[str, str] | None = None) -> AdminAccess:
    """Decide the sign-in mode from the secrets and the environment."""
    env = os.environ if env is None else env
    auth = secrets.get("auth")
    if isinstance(auth, Mapping) and auth:
        named = tuple(
            name
            for name, value in auth.items()
            if name not in _OIDC_SHARED and isinstance(value, Mapping)
        )
        providers: tuple[str | None, ...] = named if named else (None,)
        emails = secrets.get("admin_emails") or ()
        if isinstance(emails, str):
            emails = (emails,)
        return AdminAccess(
            mode="oidc",
            providers=providers,
            admin_emails=frozenset(str(e).strip().lower() for e in emails if str(e).strip()),
        )
    password = secrets.get("admin_password") or env.get(PASSWORD_ENV) or None
    if password:
        return AdminAccess(mode="password", password=str(password))
    return AdminAccess(mode="closed")


def password_matches(given: str, expected: str | None) -> bool:
    """True when the given password is the configured one (constant-time comparison)."""
    if not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def oidc_user() -> tuple[bool, str | None]:
    """Whether someone is signed in through OIDC, and their e-mail address."""
    user = st.user
    if not user.get("is_logged_in", False):
        return False, None
    email = user.get("email")
    return True, str(email).strip().lower() if email else None


def data_home() -> Path:
    """The data directory, where the audit log and the sign-in state live."""
    return Settings.from_env().home


def client_address() -> str | None:
    """The client's address as Streamlit reports it (None on localhost or outside a browser)."""
    try:
        address = st.context.ip_address
    except Exception:  # outside a running app there is no context
        return None
    return address if isinstance(address, str) and address else None


def _cookie_key(access: AdminAccess) -> bytes:
    return signing_key(data_home(), access.password or "")


def _remember_cookie(value: str, session: CookieSession) -> None:
    st.session_state[COOKIE_KEY] = (value, session)
    st.session_state.pop(CLEAR_COOKIE_KEY, None)


def restore_from_cookie(access: AdminAccess, now: float | None = None) -> bool:
    """Sign this session in from a valid, unrevoked cookie the browser sent; True if it did."""
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # no browser context (e.g. AppTest)
        return False
    if not value or st.session_state.get(REFUSED_KEY) == value or not access.password:
        return False
    session = read_cookie(value, _cookie_key(access), now=now)
    if session is None or AdminStore(data_home()).is_revoked(session.nonce):
        st.session_state[REFUSED_KEY] = value
        return False
    st.session_state[SESSION_KEY] = True
    st.session_state[NAME_KEY] = session.user
    _remember_cookie(value, session)
    return True


def is_admin(access: AdminAccess) -> bool:
    """True when this session belongs to a signed-in admin."""
    if access.mode == "oidc":
        signed_in, email = oidc_user()
        return signed_in and email is not None and email in access.admin_emails
    if access.mode == "password":
        return bool(st.session_state.get(SESSION_KEY)) or restore_from_cookie(access)
    return False


def admin_name(access: AdminAccess) -> str | None:
    """The name recorded with this admin's changes: the e-mail address an identity provider
    vouched for, else the name given at password sign-in; None if there is neither."""
    if access.mode == "oidc":
        return oidc_user()[1]
    name = st.session_state.get(NAME_KEY)
    return str(name) if name else None


def set_admin_name(name: str) -> None:
    """Remember who this password-signed-in admin is (for a session signed in without one)."""
    st.session_state[NAME_KEY] = name.strip()
    access = current_access()
    if access.mode == "password" and COOKIE_KEY not in st.session_state:
        _remember_cookie(*make_cookie(name.strip(), _cookie_key(access)))


def current_access() -> AdminAccess:
    """The admin access this deployment is configured for."""
    return admin_access(read_secrets())


def lockout_keys(name: str | None) -> list[str]:
    """The keys failed attempts are counted under: the account named, and the client address
    where known (on localhost Streamlit gives none, so there it is per account only)."""
    keys = [account_key(name)] if name and name.strip() else []
    address = client_address()
    if address:
        keys.append(client_key(address))
    return keys


def sign_in_with_password(
    access: AdminAccess, given: str, name: str | None = None, now: float | None = None
) -> SignInResult:
    """Sign this session in if the password is right; count failures on the server and refuse
    every attempt for a while after too many.

    ``name`` is who the admin says they are: a shared password cannot tell admins apart, and
    every change an admin makes is recorded with a name.
    """
    now = time.time() if now is None else now
    home = data_home()
    store = AdminStore(home)
    keys = lockout_keys(name)
    who = (name or "").strip()
    client = client_address()
    if store.locked(keys, now=now):
        log.warning("admin sign-in refused (locked out): name=%r client=%s", who, client)
        audit.record(
            home, "sign_in_failed", who, outcome="refused", detail="locked out", client=client
        )
        return "locked"
    if not password_matches(given, access.password):
        store.record_failure(keys, now=now)
        log.warning("admin sign-in failed: wrong password, name=%r client=%s", who, client)
        audit.record(
            home, "sign_in_failed", who, outcome="failed", detail="wrong password", client=client
        )
        return "locked" if store.locked(keys, now=now) else "wrong"
    store.clear(keys)
    st.session_state[SESSION_KEY] = True
    if who:
        st.session_state[NAME_KEY] = who
        _remember_cookie(*make_cookie(who, _cookie_key(access), now=now))
    st.session_state.pop(REFUSED_KEY, None)
    audit.record(home, "sign_in", who, detail="password", client=client)
    return "ok"


def locked_out(name: str | None = None) -> bool:
    """True when the account named (or this client) has used up its password attempts."""
    return AdminStore(data_home()).locked(lockout_keys(name))


def sign_out(access: AdminAccess) -> None:
    """End the admin session: revoke its cookie on the server and have the browser drop it
    (and end the OIDC sign-in, which reloads the app)."""
    home = data_home()
    kept = st.session_state.pop(COOKIE_KEY, None)
    if kept is not None:
        _value, session = kept
        AdminStore(home).revoke(session.nonce, session.expires)
        st.session_state[REFUSED_KEY] = _value
    audit.record(home, "sign_out", admin_name(access), client=client_address())
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(NAME_KEY, None)
    st.session_state[CLEAR_COOKIE_KEY] = True
    if access.mode == "oidc":
        st.logout()


def cookie_writer() -> None:
    """Set (or clear, after sign-out) the session cookie in the browser: a hidden component
    whose script writes ``document.cookie``. Drawn on every admin page run, so that it runs
    whichever page the admin lands on."""
    kept = st.session_state.get(COOKIE_KEY)
    if kept is not None:
        value, session = kept
        html = cookie_script(value, expires=session.expires)
    elif st.session_state.get(CLEAR_COOKIE_KEY):
        html = cookie_script(None)
    else:
        return
    st.iframe(html, height=1)
