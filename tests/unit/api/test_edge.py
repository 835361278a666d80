"""gateway/api/edge.py: the outermost ASGI wrapper — request ids, the exact header limits,
encoded separators, and the fast path it is handed — with a stand-in app behind it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from gateway.api.edge import Edge, _encoded_separator, _header_bytes

Message = dict[str, Any]


def _scope(path: str = "/v1/programs", headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers or [],
    }


class App:
    """Answers 204 and remembers that it was called."""

    def __init__(self) -> None:
        self.called = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.called += 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _run(edge: Edge, scope: Any) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(edge(scope, receive, send))
    return sent


def _headers(sent: list[Message]) -> dict[bytes, bytes]:
    return dict(sent[0]["headers"])


def test_a_valid_request_id_is_kept_and_another_is_replaced() -> None:
    kept = _headers(_run(Edge(App()), _scope(headers=[(b"x-request-id", b"abc-123")])))
    assert kept[b"x-request-id"] == b"abc-123"
    made = _headers(_run(Edge(App()), _scope(headers=[(b"x-request-id", b"no spaces")])))
    assert made[b"x-request-id"] != b"no spaces"
    assert len(made[b"x-request-id"]) == 26


def test_headers_beyond_the_exact_limits_are_431_before_the_app() -> None:
    app = App()
    many = [(f"x-{i}".encode(), b"1") for i in range(11)]
    sent = _run(Edge(app, max_headers=10), _scope(headers=many))
    assert sent[0]["status"] == 431
    assert json.loads(sent[1]["body"])["code"] == "request_header_fields_too_large"
    big = [(b"x-big", b"v" * 2000)]
    assert _run(Edge(app, max_header_bytes=1024), _scope(headers=big))[0]["status"] == 431
    assert app.called == 0
    assert _header_bytes([(b"ab", b"cd")]) == 8  # "ab: cd\r\n"


def test_an_encoded_separator_in_an_api_path_is_refused() -> None:
    app = App()
    scope = _scope("/v1/programs/p/members/a/b")
    scope["raw_path"] = b"/v1/programs/p/members/a%2Fb"
    sent = _run(Edge(app), scope)
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"])["errors"][0]["field"] == "path"
    assert app.called == 0
    assert _encoded_separator({"raw_path": b"/v1/x%5Cy"})
    assert not _encoded_separator({"raw_path": b"/docs/a%2Fb"})  # only API paths
    assert not _encoded_separator({"raw_path": b"/v1/plain"})


def test_the_fast_path_answers_or_hands_on() -> None:
    app = App()

    async def answers(_: Any, scope: Any, send: Any) -> bool:
        if scope["path"] != "/fast":
            return False
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"fast"})
        return True

    edge = Edge(app, fast_path=answers)
    assert _run(edge, _scope("/fast"))[1]["body"] == b"fast"
    assert app.called == 0
    assert _run(edge, _scope("/slow"))[0]["status"] == 204
    assert app.called == 1
    assert b"x-request-id" in _headers(_run(edge, _scope("/fast")))  # its answer is labelled too


class HtmlNotFound:
    """Answers as litestar's docs router does for an unknown path below /docs."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": b"<h1>Error 404</h1>"})


def test_an_html_404_below_docs_becomes_the_not_found_problem() -> None:
    sent = _run(Edge(HtmlNotFound()), _scope("/docs/nope"))
    assert sent[0]["status"] == 404
    assert _headers(sent)[b"content-type"] == b"application/problem+json"
    assert b"x-request-id" in _headers(sent)
    assert len(sent) == 2  # the HTML body is not sent after the problem
    assert json.loads(sent[1]["body"])["code"] == "not_found"
    # an answer that is not a 404 passes unchanged
    assert _run(Edge(App()), _scope("/docs/"))[0]["status"] == 204


def test_probes_and_scrapes_are_logged_at_debug_requests_at_info(monkeypatch: Any) -> None:
    from gateway.api import edge as edge_module

    lines: list[tuple[str, str]] = []

    class Log:
        def info(self, event: str, **fields: Any) -> None:
            lines.append(("info", fields["route"]))

        def debug(self, event: str, **fields: Any) -> None:
            lines.append(("debug", fields["route"]))

    monkeypatch.setattr(edge_module, "_log", Log())
    monkeypatch.setattr(edge_module, "info_enabled", lambda: True)
    monkeypatch.setattr(edge_module, "debug_enabled", lambda: True)
    for path in ("/healthz", "/readyz", "/metrics", "/v1/programs"):
        scope = _scope(path)
        scope["path_template"] = path
        _run(Edge(App()), scope)
    assert lines == [
        ("debug", "/healthz"),
        ("debug", "/readyz"),
        ("debug", "/metrics"),
        ("info", "/v1/programs"),
    ]
    lines.clear()
    monkeypatch.setattr(edge_module, "debug_enabled", lambda: False)  # level info
    _run(Edge(App()), {**_scope("/healthz"), "path_template": "/healthz"})
    assert lines == []
