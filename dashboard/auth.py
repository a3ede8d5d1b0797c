"""Who may open the admin area, decided from configuration alone.

Three modes, in order of preference:

- ``oidc``: an ``[auth]`` section in Streamlit's secrets configures OpenID Connect sign-in
  (``st.login``). Signing in proves who someone is; ``admin_emails`` in the secrets says who of
  them is an admin. Without that list nobody is, because an identity provider such as a public
  one would otherwise let anyone with an account in.
- ``password``: ``admin_password`` in the secrets, or the ``TDIR_ADMIN_PASSWORD`` environment
  variable. The comparison takes constant time.
- ``closed``: neither is configured, so the admin area cannot be opened at all.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

AuthMode = Literal["oidc", "password", "closed"]
PASSWORD_ENV = "TDIR_ADMIN_PASSWORD"
SESSION_KEY = "tdir_admin_signed_in"
NAME_KEY = "tdir_admin_name"  # who signed in with the shared password, as they said
FAILURES_KEY = "tdir_admin_failures"
AFTER_SIGN_IN = "tdir_after_sign_in"  # the next run opens the admin area
MAX_FAILURES = 5  # per session; then the form stays locked until the session ends
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


def is_admin(access: AdminAccess) -> bool:
    """True when this session belongs to a signed-in admin."""
    if access.mode == "oidc":
        signed_in, email = oidc_user()
        return signed_in and email is not None and email in access.admin_emails
    if access.mode == "password":
        return bool(st.session_state.get(SESSION_KEY))
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


def current_access() -> AdminAccess:
    """The admin access this deployment is configured for."""
    return admin_access(read_secrets())


def sign_in_with_password(access: AdminAccess, given: str, name: str | None = None) -> bool:
    """Sign this session in if the password is right; count failures and lock after too many.

    ``name`` is who the admin says they are: a shared password cannot tell admins apart, and
    every change an admin makes is recorded with a name. Returns whether the session is now
    signed in.
    """
    failures = int(st.session_state.get(FAILURES_KEY, 0))
    if failures >= MAX_FAILURES:
        return False
    if password_matches(given, access.password):
        st.session_state[SESSION_KEY] = True
        st.session_state[FAILURES_KEY] = 0
        if name and name.strip():
            st.session_state[NAME_KEY] = name.strip()
        return True
    st.session_state[FAILURES_KEY] = failures + 1
    return False


def locked_out() -> bool:
    """True when this session has used up its password attempts."""
    return int(st.session_state.get(FAILURES_KEY, 0)) >= MAX_FAILURES


def sign_out(access: AdminAccess) -> None:
    """End the admin session (and the OIDC sign-in, which reloads the app)."""
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(NAME_KEY, None)
    if access.mode == "oidc":
        st.logout()
