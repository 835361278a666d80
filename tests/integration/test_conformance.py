"""Every route and every error status it documents is provoked for real and checked against
the document: a real `gateway serve` process, its own simulators (faults do not leak into
other tests), answers read over HTTP (raw sockets where a client library cannot provoke the
answer). Each answer must have the documented status, `application/problem+json`, a body
valid against the document's Problem schema and a `code` the route's row in
`gateway/api/route_errors.py` gives for that status.

With schemathesis (`pytest -m fuzz`), which checks that nothing undocumented is answered,
the document cannot drift from the gateway in either direction.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from gateway.api.route_errors import ROUTES, codes_by_status
from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.common import FaultPlan, Faults
from gateway.sandbox.process import GatewayProcess
from gateway.sandbox.world import DEMO_API_KEY, World
from tests.harness import raw_http

READ_ONLY_KEY = "conformance-read-only-key"  # members:read only: every write is 403
EARN_ONLY_KEY = "conformance-earn-only-key"  # points:earn only: every read is 403
THROTTLED_KEY = "conformance-throttled-key"  # one request an hour: then 429
MAX_CONNECTIONS = 4
SYW, IRT, CP, ALPHA = "syw-rewards", "irt-rewards", "cafe-rewards", "alpha-store"
IRT_CARD = "6001000000000001"  # the demo card, PIN 1234

#: declared but not provokable with the four configured providers: every one of them reads
#: profiles and balances, so no route that needs one can answer 501 here (a provider without
#: them would)
UNPROVOKABLE = {("get_member", 501), ("balance", 501)}


def _client(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Env:
    world: World
    url: str
    port: int
    document: dict[str, Any]
    syw_member: str  # with points, for reads and writes on ShopYourWay
    last_fault: list[float]

    def http(self, key: str | None = DEMO_API_KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=15)


@pytest.fixture(scope="module")
def env(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    world = World()
    world.start()
    port = free_tcp_port()
    config = world.config_yaml(
        redis_url=redis_url, port=port, key_prefix="lg-conf", circuit_open_seconds=0.2
    )
    config = config.replace(
        "server:\n",
        "server:\n  header_timeout_seconds: 0.5\n  body_timeout_seconds: 0.5\n"
        f"  max_connections_per_worker: {MAX_CONNECTIONS}\n",
        1,
    ).replace(
        "programs:\n",
        f"""  - id: read-only
    api_key_sha256: {_client(READ_ONLY_KEY)}
    programs: ["*"]
    scopes: [members:read]
  - id: earn-only
    api_key_sha256: {_client(EARN_ONLY_KEY)}
    programs: ["*"]
    scopes: [points:earn]
  - id: throttled
    api_key_sha256: {_client(THROTTLED_KEY)}
    programs: ["*"]
    scopes: [members:read, members:write, points:earn, points:redeem]
    rate_limit: {{requests: 1, per_seconds: 3600}}
programs:
""",
        1,
    )
    # reads of ShopYourWay and IRT time out after 0.5 s (504); their writes have 5 s, so a
    # slow provider keeps a write's key busy (409) without timing it out
    slow_reads = (
        "    timeouts: {read_seconds: 0.5, operations: {enroll: 5, earn: 5, redeem: 5, void: 5}}\n"
    )
    for program in (SYW, IRT):
        marker = f"  - id: {program}\n"
        config = config.replace(marker, marker + slow_reads, 1)
    path = Path(tmp_path_factory.mktemp("conformance")) / "gateway.yaml"
    path.write_text(config, encoding="utf-8")
    gateway = GatewayProcess(str(path), port, workers=1).start()
    try:
        url = f"http://127.0.0.1:{port}"
        document = httpx.get(url + "/openapi.json").json()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {THROTTLED_KEY}"}) as c:
            assert c.get("/v1/programs").status_code == 200  # its one request of the hour
        yield Env(world, url, port, document, world.new_syw_member(points=10_000), [0.0])
    finally:
        gateway.stop()
        world.stop()


# -- the routes: method, path, and a valid request for each --------------------------------
@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {program} and {member}
    body: Callable[[], Any] | None = None  # JSON; None: no body
    program: str = SYW
    member: str | None = None  # default: the ShopYourWay member with points

    def url(self, env: Env, program: str | None = None, member: str | None = None) -> str:
        member = member or self.member or env.syw_member
        return self.path.format(program=program or self.program, member=member)


def _ref() -> str:
    return "c" + uuid.uuid4().hex[:12]


MEMBER = "/v1/programs/{program}/members/{member}"
ROUTE_OF: dict[str, Route] = {
    "healthz": Route("GET", "/healthz"),
    "readyz": Route("GET", "/readyz"),
    "list_programs": Route("GET", "/v1/programs"),
    "get_program": Route("GET", "/v1/programs/{program}"),
    "program_health": Route("GET", "/v1/programs/{program}/health"),
    "lookup": Route("GET", "/v1/programs/{program}/members?email=nobody@example.com"),
    "enroll": Route(
        "POST",
        "/v1/programs/{program}/members",
        lambda: {
            "email": f"{_ref()}@example.com",
            "first_name": "C",
            "last_name": "D",
            "address": {"postal_code": "60179"},
        },
    ),
    "get_member": Route("GET", MEMBER),
    "update_member": Route("PATCH", MEMBER, lambda: {"first_name": "Zed"}, IRT, IRT_CARD),
    "balance": Route("GET", MEMBER + "/balance"),
    "activity": Route("GET", MEMBER + "/activity"),
    "offers": Route("GET", MEMBER + "/offers"),
    "overview": Route("GET", MEMBER + "/overview"),
    "earn": Route("POST", MEMBER + "/earn", lambda: {"points": 5, "reference": _ref()}),
    "redeem": Route("POST", MEMBER + "/redemptions", lambda: {"points": 5, "reference": _ref()}),
    "void": Route("POST", MEMBER + "/redemptions/{{redemption}}/void", lambda: {}),
    "wallet": Route(
        "POST", "/v1/wallet", lambda: {"memberships": [{"program": SYW, "member_id": "1"}]}
    ),
}
WRITES = {"enroll", "earn", "redeem", "void"}


def _send(
    env: Env,
    name: str,
    *,
    key: str | None = DEMO_API_KEY,
    program: str | None = None,
    member: str | None = None,
    body: Any = ...,
    headers: dict[str, str] | None = None,
    idempotency_key: str | None = "",
    content: bytes | None = None,
) -> httpx.Response:
    route = ROUTE_OF[name]
    url = route.url(env, program, member)
    if name == "void":
        url = url.replace("{redemption}", _redemption(env, member or env.syw_member))
    sent = dict(headers or {})
    if name == "update_member" and program in (None, IRT):
        sent.setdefault("X-Member-Pin", "1234")
    if name in WRITES and idempotency_key is not None:
        sent["Idempotency-Key"] = idempotency_key or _ref()
    if body is ... and route.body is not None:
        body = route.body()
    with env.http(key) as client:
        if content is not None:
            return client.request(route.method, url, content=content, headers=sent)
        if body is ... or body is None:
            return client.request(route.method, url, headers=sent)
        return client.request(route.method, url, json=body, headers=sent)


def _redemption(env: Env, member: str) -> str:
    """A redemption of ``member`` to void, made without faults ("R1" off ShopYourWay)."""
    if not member.startswith("7081"):
        return "R1"
    with env.http() as client:
        made = client.post(
            f"/v1/programs/{SYW}/members/{member}/redemptions",
            json={"points": 5, "reference": _ref()},
            headers={"Idempotency-Key": _ref()},
        )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@contextmanager
def _faulted(env: Env, plan: FaultPlan, faults: Faults) -> Iterator[None]:
    """Faults for one case; the breaker opened by the last one (0.2 s) has closed first, so
    each case meets the provider, not a paused circuit."""
    time.sleep(max(0.0, env.last_fault[0] + 0.3 - time.monotonic()))
    plan.set(faults)
    try:
        yield
    finally:
        plan.set(Faults())
        env.last_fault[0] = time.monotonic()


# -- how each status is provoked -----------------------------------------------------------
Answer = tuple[int, dict[str, str], bytes]


def _of(response: httpx.Response) -> Answer:
    return response.status_code, dict(response.headers), response.content


def _raw_head(env: Env, name: str) -> bytes:
    route = ROUTE_OF[name]
    url = route.url(env).replace("{redemption}", "R1")
    return f"{route.method} {url} HTTP/1.1\r\nHost: gw\r\n".encode()


def provoke_400(env: Env, name: str) -> Answer:
    if name == "lookup":  # not exactly one of email, phone, card_number
        with env.http() as client:
            return _of(client.get(f"/v1/programs/{SYW}/members"))
    if name in WRITES:  # the key is part of the request's validity
        return _of(_send(env, name, idempotency_key=None))
    if name == "wallet":
        return _of(_send(env, name, body={"memberships": "all"}))
    return _of(_send(env, name, member=".hidden"))  # an id never starts with a dot


def provoke_401(env: Env, name: str) -> Answer:
    return _of(_send(env, name, key=None))


def provoke_403(env: Env, name: str) -> Answer:
    needs_write = name in WRITES or name == "update_member"
    return _of(_send(env, name, key=READ_ONLY_KEY if needs_write else EARN_ONLY_KEY))


def provoke_404(env: Env, name: str) -> Answer:
    if name in {"get_member", "balance", "activity", "offers"}:
        return _of(_send(env, name, member="7081999999999999"))  # no such member
    return _of(_send(env, name, program="no-such-program"))


def provoke_408(env: Env, name: str) -> Answer:
    with raw_http.connect(env.port) as sock:
        sock.sendall(_raw_head(env, name))  # and the blank line never comes
        return raw_http.parse(raw_http.answer(sock))


def provoke_409(env: Env, name: str) -> Answer:
    if name == "enroll":  # IRT already knows the demo card
        return _of(_send(env, name, program=IRT, body={"card_number": IRT_CARD}))
    if name == "update_member":  # Alpha: the email of another recipient
        with env.http() as client:
            other = client.post(
                f"/v1/programs/{ALPHA}/members",
                json={"email": f"{_ref()}@example.com", "first_name": "O", "last_name": "P"},
                headers={"Idempotency-Key": _ref()},
            ).json()
        return _of(
            _send(env, name, program=ALPHA, member="OLMKne7Y3N", body={"email": other["email"]})
        )
    # the same key while its first request still waits for a slow provider
    key, body = _ref(), ROUTE_OF[name].body()  # type: ignore[misc]
    member = env.world.new_syw_member(points=1000)
    url = ROUTE_OF[name].url(env, member=member)
    if name == "void":
        url = url.replace("{redemption}", _redemption(env, member))
    with _faulted(env, env.world.syw.faults, Faults(latency_ms=1500)):
        first = threading.Thread(target=_post, args=(env, url, body, key))
        first.start()
        time.sleep(0.5)
        second = _post(env, url, body, key)
        first.join()
    return _of(second)


def _post(env: Env, url: str, body: Any, key: str) -> httpx.Response:
    with env.http() as client:
        return client.post(url, json=body, headers={"Idempotency-Key": key})


def provoke_413(env: Env, name: str) -> Answer:
    return _of(_send(env, name, body={"reason": "x" * 70_000}))


def provoke_415(env: Env, name: str) -> Answer:
    return _of(_send(env, name, content=b"points=5", headers={"Content-Type": "text/plain"}))


def provoke_422(env: Env, name: str) -> Answer:
    if name == "redeem":  # a new member has no points
        return _of(_send(env, name, member=env.world.new_syw_member(points=0)))
    if name == "update_member":  # IRT refuses a wrong PIN
        return _of(_send(env, name, headers={"X-Member-Pin": "9999"}))
    # reads a provider refuses: IRT a wrong PIN, ShopYourWay a value or a date it won't take
    with env.http() as client:
        if name == "get_member":
            url = f"/v1/programs/{IRT}/members/{IRT_CARD}"
            return _of(client.get(url, headers={"X-Member-PIN": "9999"}))
        if name == "lookup":
            return _of(client.get(f"/v1/programs/{SYW}/members", params={"phone": "null"}))
        if name == "activity":
            url = f"/v1/programs/{SYW}/members/{env.syw_member}/activity"
            return _of(client.get(url, params={"since": "0279-07-13T02:03:08Z"}))
    # the same key for another request (another body; for a void, another redemption)
    key = _ref()
    first = _send(env, name, idempotency_key=key)
    assert first.status_code in (200, 201), first.text
    return _of(_send(env, name, idempotency_key=key))


def provoke_429(env: Env, name: str) -> Answer:
    return _of(_send(env, name, key=THROTTLED_KEY))


def provoke_431(env: Env, name: str) -> Answer:
    return _of(_send(env, name, headers={f"x-extra-{i}": "1" for i in range(120)}))


NOT_SUPPORTED = {
    "lookup": CP,
    "enroll": CP,
    "update_member": CP,
    "activity": ALPHA,
    "offers": ALPHA,
    "earn": ALPHA,
    "redeem": ALPHA,
    "void": ALPHA,
}


def provoke_501(env: Env, name: str) -> Answer:
    program = NOT_SUPPORTED[name]
    member = {CP: "2059378440", ALPHA: "OLMKne7Y3N"}[program]
    if name == "lookup":
        return _of(_send(env, name, program=program))
    return _of(_send(env, name, program=program, member=member))


def provoke_502(env: Env, name: str) -> Answer:
    """The provider applies the write and the connection is cut."""
    member = env.world.new_syw_member(points=1000)
    url = ROUTE_OF[name].url(env, member=member)
    if name == "void":
        url = url.replace("{redemption}", _redemption(env, member))
    with _faulted(env, env.world.syw.faults, Faults(drop_after_apply_rate=1.0)):
        return _of(_post(env, url, ROUTE_OF[name].body(), _ref()))  # type: ignore[misc]


def provoke_503(env: Env, name: str) -> Answer:
    """Reads: the provider failing. Every route: this worker at its connection limit."""
    if name in {"get_member", "lookup", "balance", "activity", "offers"}:
        with _faulted(env, env.world.syw.faults, Faults(error_rate=1.0)):
            return _of(_send(env, name))
    held = [raw_http.connect(env.port) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.05)
        with raw_http.connect(env.port) as sock:
            sock.sendall(_raw_head(env, name) + b"\r\n")
            return raw_http.parse(raw_http.answer(sock))
    finally:
        for sock in held:
            sock.close()
        time.sleep(0.1)  # the worker counts them closed


def provoke_504(env: Env, name: str) -> Answer:
    plan = env.world.irt.faults if name == "update_member" else env.world.syw.faults
    with _faulted(env, plan, Faults(latency_ms=1500)):
        return _of(_send(env, name))


PROVOKE: dict[int, Callable[[Env, str], Answer]] = {
    400: provoke_400,
    401: provoke_401,
    403: provoke_403,
    404: provoke_404,
    408: provoke_408,
    409: provoke_409,
    413: provoke_413,
    415: provoke_415,
    422: provoke_422,
    429: provoke_429,
    431: provoke_431,
    501: provoke_501,
    502: provoke_502,
    503: provoke_503,
    504: provoke_504,
}

CASES = [
    (name, status)
    for name, errors in ROUTES.items()
    for status in codes_by_status(errors)
    if (name, status) not in UNPROVOKABLE
]


@pytest.mark.parametrize(("name", "status"), CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_every_documented_error_is_answered_as_documented(env: Env, name: str, status: int) -> None:
    got, headers, body = PROVOKE[status](env, name)
    assert got == status, (name, status, got, body[:300])
    route = ROUTE_OF[name]
    template = route.path.split("?")[0].replace("{member}", "{member_id}")
    template = template.replace("{{redemption}}", "{redemption_id}")
    documented = env.document["paths"][template][route.method.lower()]["responses"]
    content = documented[str(status)]["content"]
    assert headers["content-type"].split(";")[0] in content, headers["content-type"]
    problem = json.loads(body)
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/Problem", "components": env.document["components"]}
    )
    errors = sorted(validator.iter_errors(problem), key=str)
    assert not errors, [e.message for e in errors]
    assert problem["status"] == status
    assert problem["code"] in codes_by_status(ROUTES[name])[status], problem["code"]


def test_only_the_listed_errors_go_unprovoked() -> None:
    declared = {(n, s) for n, errors in ROUTES.items() for s in codes_by_status(errors)}
    assert declared - set(CASES) == UNPROVOKABLE
    assert declared >= UNPROVOKABLE  # a stale exception would hide nothing and mislead
