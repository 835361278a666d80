"""The docs page is the gateway's own: every file it names is shipped, no other host is named."""

from __future__ import annotations

import re
from typing import Any, cast

from litestar import Request

from gateway.api.docs_ui import ASSETS, ASSETS_PATH, SWAGGER_UI_VERSION, BundledSwaggerUI

_REQUEST = cast(Request[Any, Any, Any], None)  # render() does not read the request


def _page(title: str = "Loyalty Gateway") -> str:
    return BundledSwaggerUI().render(_REQUEST, {"info": {"title": title}}).decode()


def test_the_page_names_only_files_the_gateway_ships() -> None:
    page = _page()
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(referenced) == 3  # icon, stylesheet, script
    for url in referenced:
        assert url.startswith(ASSETS_PATH + "/"), url
        name = url.removeprefix(ASSETS_PATH + "/").split("?")[0]
        assert (ASSETS / name).is_file(), name
    assert 'url: "/openapi.json"' in page


def test_the_page_names_no_other_host() -> None:
    page = _page()
    assert not re.search(r"https?:|//", page)  # no absolute or protocol-relative URL
    assert "validatorUrl: null" in page  # the badge would fetch from validator.swagger.io


def test_the_title_is_escaped() -> None:
    page = _page("<script>alert(1)</script> & co")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


def test_the_shipped_bundle_is_the_pinned_version_with_its_licence() -> None:
    bundle = (ASSETS / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    assert f'"{SWAGGER_UI_VERSION}"' in bundle
    assert "Apache License" in (ASSETS / "LICENSE").read_text(encoding="utf-8")
    assert (ASSETS / "NOTICE").is_file()
    assert (ASSETS / "swagger-ui.css").stat().st_size > 100_000


def test_the_page_is_served_at_docs_and_docs_swagger() -> None:
    assert set(BundledSwaggerUI().paths) == {"/", "/swagger"}
