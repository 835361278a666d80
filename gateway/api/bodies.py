"""One strict decoder for every JSON request body (API.md "Input rules").

Runs as litestar's ``before_request`` hook, before the handler's parameters are parsed (and
before the idempotency fingerprint reads the body), on every route whose ``opt["body"]``
names its body struct:

- media type: ``application/json`` (any ``+json`` type too), ``application/merge-patch+json``
  also for PATCH; another one, or none with a body, is ``415 unsupported_media_type``;
- the bytes: valid UTF-8, at most :data:`MAX_DEPTH` levels of arrays and objects, no NaN or
  Infinity, no key twice in one object;
- the value: decoded into the struct with msgspec's strict rules (``"5"``, ``5.0``, ``1e2``
  and ``true`` are not integers), unknown fields refused; errors name the field.

Anything wrong is ``400 invalid_request`` with ``errors[0].field``; no body can produce a 5xx.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from litestar import Request

from gateway.domain.errors import FieldError, InvalidRequest, UnsupportedMediaType

#: arrays and objects inside each other; the contract's bodies need 3
MAX_DEPTH = 16
_JSON_TYPES = ("application/json",)
_PATCH_TYPES = ("application/merge-patch+json", "application/json")
_AT = re.compile(r" - at `\$(?:\.)?(?P<path>[^`]*)`$")
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(
        f"The request body is invalid: {message}.", errors=[FieldError(field, message)]
    )


def media_type_ok(content_type: str | None, method: str) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    allowed = _PATCH_TYPES if method == "PATCH" else _JSON_TYPES
    return media in allowed or (method != "PATCH" and media.endswith("+json"))


def depth_of(raw: bytes) -> int:
    """The deepest nesting of arrays and objects (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSE:
            depth -= 1
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _invalid(key, "this key appears twice")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise _invalid("body", f"{name} is not a JSON number")


def decode(raw: bytes, body_type: type[Any], *, required: bool = True) -> Any:
    """``raw`` as ``body_type`` under the rules above (``None`` for an optional empty body)."""
    if not raw.strip():
        if not required:
            return None
        raise _invalid("body", "a JSON object is required")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("body", "not valid UTF-8") from None
    if (raw.count(b"[") + raw.count(b"{") > MAX_DEPTH) and depth_of(raw) > MAX_DEPTH:
        raise _invalid("body", f"nested deeper than {MAX_DEPTH} levels")
    try:
        json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except ValueError:  # a duplicate key raises InvalidRequest, which is not a ValueError
        raise _invalid("body", "not valid JSON") from None
    try:
        return msgspec.json.decode(raw, type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = _AT.search(message)
        field = found.group("path") if found and found.group("path") else "body"
        raise _invalid(field, _AT.sub("", message)) from None
    except msgspec.DecodeError:
        raise _invalid("body", "not valid JSON") from None


class NoBody(msgspec.Struct, forbid_unknown_fields=True):
    """A body that may be absent or ``{}`` (the void)."""


async def strict_body(request: Request[Any, Any, Any]) -> None:
    """The ``before_request`` hook: check the body of a route that declares one."""
    body_type = request.route_handler.opt.get("body")
    if body_type is None:
        return
    raw = await request.body()
    optional = body_type is NoBody
    if (raw.strip() or not optional) and not media_type_ok(
        request.headers.get("content-type"), request.method
    ):
        allowed = " or ".join(_PATCH_TYPES if request.method == "PATCH" else _JSON_TYPES)
        raise UnsupportedMediaType(f"Send the body as {allowed}.")
    decode(raw, body_type, required=not optional)
