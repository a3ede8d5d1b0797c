"""Which sign-in the admin area uses, decided from secrets and the environment; the signed
session cookie; lockout and revocation on the server."""

from __future__ import annotations

import stat
from pathlib import Path

from dashboard.admin_store import LOCKOUT, MAX_FAILURES, AdminStore, account_key, client_key
from dashboard.auth import admin_access, password_matches
from dashboard.session_cookie import (
    COOKIE_NAME,
    cookie_script,
    make_cookie,
    read_cookie,
    secret_path,
    signing_key,
)

OIDC = {"client_id": "x", "client_secret": "y", "server_metadata_url": "https://id.example"}


def test_nothing_configured_means_closed() -> None:
    access = admin_access({}, {})
    assert access.mode == "closed"
    assert not password_matches("", access.password)


def test_a_password_from_secrets_or_environment() -> None:
    assert admin_access({"admin_password": "s"}, {}).mode == "password"
    from_env = admin_access({}, {"TDIR_ADMIN_PASSWORD": "e"})
    assert from_env.mode == "password" and from_env.password == "e"
    # The secrets file wins over the environment.
    assert admin_access({"admin_password": "s"}, {"TDIR_ADMIN_PASSWORD": "e"}).password == "s"


def test_the_password_never_shows_in_a_repr() -> None:
    assert "hunter2" not in repr(admin_access({"admin_password": "hunter2"}, {}))


def test_password_comparison() -> None:
    assert password_matches("pässword", "pässword")
    assert not password_matches("password", "pässword")
    assert not password_matches("", "")
    assert not password_matches("x", None)


def test_oidc_wins_when_configured() -> None:
    access = admin_access(
        {
            "auth": {"redirect_uri": "r", "cookie_secret": "c", **OIDC},
            "admin_password": "s",
            "admin_emails": ["A@Example.org "],
        },
        {},
    )
    assert access.mode == "oidc"
    assert access.providers == (None,)
    assert access.admin_emails == frozenset({"a@example.org"})


def test_named_oidc_providers() -> None:
    access = admin_access(
        {"auth": {"redirect_uri": "r", "cookie_secret": "c", "google": OIDC, "okta": OIDC}}, {}
    )
    assert access.providers == ("google", "okta")
    assert access.admin_emails == frozenset()


# -- the signed session cookie -----------------------------------------------------------------


def test_a_cookie_reads_back_until_it_expires(tmp_path: Path) -> None:
    key = signing_key(tmp_path, "pw")
    value, made = make_cookie("Ann Admin", key, now=1_000, lifetime=60)
    assert read_cookie(value, key, now=1_030) == made
    assert made.user == "Ann Admin" and made.expires == 1_060 and made.nonce
    assert read_cookie(value, key, now=1_060) is None  # expired
    assert read_cookie(value, key, now=5_000) is None


def test_tampered_or_foreign_cookies_are_refused(tmp_path: Path) -> None:
    key = signing_key(tmp_path, "pw")
    value, _ = make_cookie("Ann", key, now=1_000)
    payload, signature = value.split(".")
    other_payload, _ = make_cookie("Mallory", key, now=1_000)[0].split(".")
    for bad in (
        f"{other_payload}.{signature}",  # another payload under this signature
        f"{payload}.{signature[:-2]}AA",  # a changed signature
        f"{payload[:-1]}.{signature}",
        payload,
        "",
        "a.b.c",
        ".",
        "é.é",
    ):
        assert read_cookie(bad, key, now=1_001) is None, bad
    # Signed with another password, or another data directory's secret: refused too.
    assert read_cookie(value, signing_key(tmp_path, "other"), now=1_001) is None
    assert read_cookie(value, signing_key(tmp_path / "elsewhere", "pw"), now=1_001) is None


def test_the_server_secret_is_created_once_and_private(tmp_path: Path) -> None:
    first = signing_key(tmp_path, "pw")
    path = secret_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(path.read_bytes()) == 32
    assert signing_key(tmp_path, "pw") == first
    path.unlink()  # a new secret signs every browser out
    assert signing_key(tmp_path, "pw") != first


def test_the_key_is_derived_from_the_password_when_the_home_is_unwritable(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    key = signing_key(blocked, "pw")
    assert key == signing_key(blocked, "pw") != signing_key(blocked, "other")


def test_the_cookie_script_sets_and_clears_a_strict_site_wide_cookie() -> None:
    setting = cookie_script("abc.def", expires=1_800_000_000)
    expected = "abc.def; Path=/; Expires=Fri, 15 Jan 2027 08:00:00 GMT; SameSite=Strict"
    assert f'"{COOKIE_NAME}={expected}"' in setting
    assert "window.parent.document" in setting
    clearing = cookie_script(None)
    assert f'"{COOKIE_NAME}=; Path=/; Max-Age=0; SameSite=Strict"' in clearing


# -- lockout and revocation on the server ------------------------------------------------------


def test_five_failures_lock_a_key_for_a_while(tmp_path: Path) -> None:
    store = AdminStore(tmp_path)
    ann, here = account_key(" Ann  Admin "), client_key("10.0.0.7")
    assert ann == account_key("ann admin")
    for i in range(MAX_FAILURES - 1):
        store.record_failure([ann, here], now=100 + i)
    assert not store.locked([ann], now=110)
    store.record_failure([ann], now=110)
    assert store.locked([ann], now=111)
    assert not store.locked([here], now=111)  # four failures from this address
    assert store.locked([account_key("Bob"), ann], now=111)
    assert not store.locked([ann], now=110 + LOCKOUT + 1)  # the lock ends
    # A failure after the lock ended starts the count again.
    store.record_failure([ann], now=110 + LOCKOUT + 2)
    assert not store.locked([ann], now=110 + LOCKOUT + 3)
    assert not store.locked([], now=111)


def test_a_fresh_store_sees_the_same_lock_and_a_success_clears_it(tmp_path: Path) -> None:
    for _ in range(MAX_FAILURES):
        AdminStore(tmp_path).record_failure([account_key("ann")])
    assert AdminStore(tmp_path).locked([account_key("ann")])  # a reload: the same file
    AdminStore(tmp_path).clear([account_key("ann")])
    assert not AdminStore(tmp_path).locked([account_key("ann")])


def test_revoked_cookies_stay_revoked_until_they_expire(tmp_path: Path) -> None:
    store = AdminStore(tmp_path)
    store.revoke("n1", expires=200, now=100)
    assert store.is_revoked("n1") and not store.is_revoked("n2")
    store.revoke("n2", expires=400, now=300)  # n1 has expired by now: dropped
    assert not store.is_revoked("n1") and store.is_revoked("n2")
