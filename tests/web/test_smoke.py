from __future__ import annotations

import httpx


def test_overview_renders(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200, page.text
    assert "<h1>" in page.text and "Token & Credit Usage Dashboard" in page.text
