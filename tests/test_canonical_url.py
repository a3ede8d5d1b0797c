"""The URL a page's records are referred to by, the same for the HTML and structured spiders."""

from __future__ import annotations

from parsel import Selector

from crawler.extract.canonical import canonical_url


def page(canonical: str | None = None) -> Selector:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return Selector(text=f"<html><head>{link}</head><body></body></html>")


def test_the_canonical_link_on_the_same_host_is_the_reference() -> None:
    assert canonical_url(page("/t/jane"), "https://dir.test/t/jane?page=2#reviews") == (
        "https://dir.test/t/jane"
    )
    assert canonical_url(page("https://DIR.test/t/jane"), "https://dir.test/x") == (
        "https://DIR.test/t/jane"
    )


def test_a_canonical_link_to_another_host_is_ignored() -> None:
    assert canonical_url(page("https://other.test/t/jane"), "https://dir.test/t/jane#top") == (
        "https://dir.test/t/jane"
    )


def test_only_the_ignored_parameters_are_dropped() -> None:
    url = "https://dir.test/profile?id=7&page=3&name=Jane%20Doe"
    assert canonical_url(page(), url) == url
    assert canonical_url(page(), url, ignore_params=["page"]) == (
        "https://dir.test/profile?id=7&name=Jane+Doe"
    )
