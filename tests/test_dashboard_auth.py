"""Which sign-in the admin area uses, decided from secrets and the environment."""

from __future__ import annotations

from dashboard.auth import admin_access, password_matches

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
