"""Reading the configuration document: YAML, ``${ENV}`` interpolation, conversion piece by
piece, and the rules beyond types. Every fault found is collected, so one run reports them
all (docs/configuration.md "How errors are reported"); the structs are ``settings.py``."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import yaml

from gateway.settings import (
    SLUG,
    ClientSettings,
    ConfigError,
    IdempotencySettings,
    ProgramSettings,
    Settings,
)


class _Problems(list[str]):
    """Faults found so far: a check adds to it and goes on, so one run reports them all."""

    def raise_any(self) -> None:
        if self:
            raise ConfigError(*self)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
#: a "${" with no "}" anywhere after it
_UNTERMINATED = re.compile(r"\$\{[^}]*$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def _interpolate(node: Any, path: str, env: dict[str, str], problems: _Problems) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of the parsed YAML tree."""
    if isinstance(node, dict):
        return {k: _interpolate(v, _join(path, str(k)), env, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}[{i}]", env, problems) for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node
    if _UNTERMINATED.search(node):
        # a reference whose closing brace is missing would otherwise be taken as a literal
        # (a secret, say) and sent as written
        problems.append(f"{path}: ${{ without a closing }} (a reference is ${{NAME}})")
        return node

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        # like the shell's ${VAR:-default}: an empty variable takes the default too
        if value and default is not None:
            return value
        if default is not None:
            return default
        if value is not None:
            return value
        problems.append(f"{path}: environment variable {name} is not set")
        return ""

    return _ENV_REF.sub(substitute, node)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _msgspec_path(message: str) -> str:
    """Turn msgspec's ``... - at `$.programs[0].auth`` into ``programs[0].auth: ...``."""
    match = re.search(r"^(.*) - at `\$\.?(.*)`$", message)
    if not match:
        return message
    text, where = match.groups()
    return f"{where or '(top level)'}: {text}"


#: checks one program's provider part (its name, ``options`` and ``auth``); the provider
#: registry supplies it (gateway/config.py), so this module imports no provider
ProgramCheck = Callable[[ProgramSettings, str], None]


def parse_document(
    text: str, check_program: ProgramCheck, env: dict[str, str] | None = None
) -> Settings:
    """Parse and validate a YAML configuration document; ``check_program`` validates each
    program's provider-specific part (use ``gateway.config.parse_settings``). Every fault
    found is reported in one :class:`ConfigError`."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"(file): not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("(top level): expected a mapping of sections")
    problems = _Problems()
    raw = _interpolate(raw, "", dict(os.environ) if env is None else env, problems)
    unresolved = bool(problems)
    settings, programs, clients = _convert(raw, problems)
    if unresolved:
        # a value left unset makes the rules about it meaningless ("token: required" for a
        # token whose variable is missing): report the references (and the types) first
        problems.raise_any()
    # a program that did not convert is still a program the clients may name
    named = {
        str(item["id"])
        for item in (raw.get("programs") if isinstance(raw.get("programs"), list) else [])
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }
    _check(settings, programs, clients, check_program, problems, named)
    problems.raise_any()
    return settings


def _convert(
    raw: dict[str, Any], problems: _Problems
) -> tuple[Settings, list[tuple[int, ProgramSettings]], list[tuple[int, ClientSettings]]]:
    """The sections, and each program and client, converted on their own, so a type error
    in one does not hide the others'. Returns what converted, with each item's index."""
    parts: dict[str, Any] = {}
    items: dict[str, list[tuple[int, Any]]] = {"programs": [], "clients": []}
    for key, value in raw.items():
        if key in items and isinstance(value, list):
            for i, item in enumerate(value):
                one = _convert_one({key: [item]}, problems, f"{key}[0]", f"{key}[{i}]")
                if one is not None:
                    items[key].append((i, getattr(one, key)[0]))
            continue
        one = _convert_one({key: value}, problems)
        if one is not None:
            parts[key] = getattr(one, key)
    settings = Settings(
        **parts,
        programs=[p for _, p in items["programs"]],
        clients=[c for _, c in items["clients"]],
    )
    return settings, items["programs"], items["clients"]


def _convert_one(
    part: dict[str, Any], problems: _Problems, as_converted: str = "", in_file: str = ""
) -> Settings | None:
    try:
        return msgspec.convert(part, Settings, strict=False)
    except msgspec.ValidationError as exc:
        message = _msgspec_path(str(exc))
        if as_converted and message.startswith(as_converted):
            message = in_file + message[len(as_converted) :]
        problems.append(message)
        return None


def inline_secrets(text: str, secret_keys: Callable[[str], tuple[str, ...]]) -> list[str]:
    """Key paths whose secret is written into the file itself instead of ``${ENV}`` (or a
    file such as ``private_key_file``): secrets belong in the environment or mounted files.
    ``secret_keys``: a provider name -> the keys of its ``auth`` that hold secrets (the
    registry knows them; use ``gateway.config.inline_secrets``)."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return []
    if not isinstance(raw, dict):
        return []
    found = []
    for i, program in enumerate(raw.get("programs") or []):
        if not isinstance(program, dict):
            continue
        auth = program.get("auth")
        provider = program.get("provider")
        for key in secret_keys(provider) if isinstance(provider, str) else ():
            value = auth.get(key) if isinstance(auth, dict) else None
            if isinstance(value, str) and value and "${" not in value:
                found.append(f"programs[{i}].auth.{key}")
    for i, client in enumerate(raw.get("clients") or []):
        value = client.get("api_key_sha256") if isinstance(client, dict) else None
        if isinstance(value, str) and "${" not in value:
            found.append(f"clients[{i}].api_key_sha256")
    return found


def read_document(path: str | Path) -> str:
    """The text of the configuration file at ``path``; see ``docs/configuration.md``."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"(file): cannot read {path}: {exc.strerror}") from None


def _between(problems: _Problems, name: str, value: float, low: float, high: float) -> None:
    """The range rule of one setting; the message names its bounds as written here."""
    if not low <= value <= high:
        problems.append(f"{name}: between {low} and {high}")


def _check(
    settings: Settings,
    programs: list[tuple[int, ProgramSettings]],
    clients: list[tuple[int, ClientSettings]],
    check_program: ProgramCheck,
    problems: _Problems,
    named: set[str],
) -> None:
    """The rules beyond types, on what converted (``programs``/``clients``: each with its
    index in the file; ``named``: every program id the file names); every fault found is
    added to ``problems``."""
    seen: set[str] = set()
    for i, program in programs:
        where = f"programs[{i}]"
        if not SLUG.match(program.id):
            problems.append(f"{where}.id: must be a lowercase slug (a-z, 0-9, '-')")
        if program.id in seen:
            problems.append(f"{where}.id: duplicate program id {program.id!r}")
        seen.add(program.id)
        if not program.base_url.startswith(("http://", "https://")):
            problems.append(f"{where}.base_url: must start with http:// or https://")
        if program.balance_ttl_seconds < 0:
            problems.append(f"{where}.balance_ttl_seconds: must be >= 0")
        if program.max_stale_seconds < 0:
            problems.append(f"{where}.max_stale_seconds: must be >= 0")
        if program.points_value is not None and program.points_value.points_per_unit <= 0:
            problems.append(f"{where}.points_value.points_per_unit: must be > 0")
        if program.timeouts.connect_seconds <= 0 or program.timeouts.read_seconds <= 0:
            problems.append(f"{where}.timeouts: timeouts must be > 0")
        for name, seconds in program.timeouts.operations.items():
            if seconds <= 0:
                problems.append(f"{where}.timeouts.operations.{name}: must be > 0")
        if program.circuit.failure_threshold < 1 or program.circuit.open_seconds <= 0:
            problems.append(f"{where}.circuit: failure_threshold >= 1 and open_seconds > 0")
        _between(problems, f"{where}.retries.max_retries", program.retries.max_retries, 0, 5)
        _between(problems, f"{where}.retries.budget_ratio", program.retries.budget_ratio, 0, 1)
        pool = program.connections
        _between(problems, f"{where}.connections.max", pool.max, 1, 10_000)
        _between(problems, f"{where}.connections.max_waiting", pool.max_waiting, 0, 100_000)
        _between(
            problems,
            f"{where}.connections.queue_timeout_seconds",
            pool.queue_timeout_seconds,
            0,
            60,
        )
        try:
            check_program(program, where)
        except ConfigError as exc:
            problems.extend(exc.problems)
    client_ids: set[str] = set()
    key_hashes: set[str] = set()
    for i, client in clients:
        where = f"clients[{i}]"
        if client.id in client_ids:
            problems.append(f"{where}.id: duplicate client id {client.id!r}")
        client_ids.add(client.id)
        digest = client.api_key_sha256.strip().lower()
        if not _SHA256_HEX.match(digest):
            problems.append(f"{where}.api_key_sha256: must be 64 hex characters (SHA-256)")
        if digest in key_hashes:
            problems.append(f"{where}.api_key_sha256: the same key is given to another client")
        key_hashes.add(digest)
        client.api_key_sha256 = digest
        for j, program_id in enumerate(client.programs):
            if program_id != "*" and program_id not in seen | named:
                problems.append(f"{where}.programs[{j}]: unknown program {program_id!r}")
        limits = {"rate_limit": client.rate_limit} if client.rate_limit else {}
        limits.update(
            {f"program_rate_limits.{k}": v for k, v in client.program_rate_limits.items()}
        )
        for name, limit in limits.items():
            if limit.requests < 1 or limit.per_seconds <= 0:
                problems.append(f"{where}.{name}: requests >= 1 and per_seconds > 0")
        for program_id in client.program_rate_limits:
            if program_id not in seen | named:
                problems.append(f"{where}.program_rate_limits.{program_id}: unknown program")
    if settings.idempotency.retention_seconds < 60:
        problems.append("idempotency.retention_seconds: must be >= 60")
    _between(problems, "idempotency.lease_seconds", settings.idempotency.lease_seconds, 1, 300)
    _check_reconcile(settings.idempotency, problems)
    acks = settings.redis.replica_acks
    if acks != "auto" and not 0 <= acks <= 5:
        problems.append("redis.replica_acks: 'auto' or between 0 and 5")
    _between(
        problems, "redis.replica_ack_timeout_ms", settings.redis.replica_ack_timeout_ms, 10, 10_000
    )
    if settings.redis.data_dir is not None and not settings.redis.data_dir.strip():
        problems.append("redis.data_dir: must not be empty (leave it out for the default)")
    identity = settings.identity
    if identity is not None:
        member_limit = identity.rate_limit
        if member_limit is not None and (
            member_limit.requests < 1 or member_limit.per_seconds <= 0
        ):
            problems.append("identity.rate_limit: requests >= 1 and per_seconds > 0")
        if not identity.jwks_url and not identity.keys:
            problems.append("identity.jwks_url: give jwks_url or keys")
        _between(
            problems,
            "identity.max_token_lifetime_seconds",
            identity.max_token_lifetime_seconds,
            60,
            31 * 86_400,
        )
        _between(problems, "identity.leeway_seconds", identity.leeway_seconds, 0, 300)
        bad = set(identity.algorithms) - {
            "RS256",
            "RS384",
            "RS512",
            "PS256",
            "ES256",
            "ES384",
            "EdDSA",
        }
        if bad or not identity.algorithms:
            problems.append(f"identity.algorithms: asymmetric algorithms only ({sorted(bad)})")
    agg = settings.aggregates
    if agg.part_deadline_seconds <= 0:
        problems.append("aggregates.part_deadline_seconds: must be > 0")
    _between(problems, "aggregates.recent_activity", agg.recent_activity, 1, 100)
    _between(problems, "aggregates.wallet_max_items", agg.wallet_max_items, 1, 100)
    _between(problems, "server.max_header_bytes", settings.server.max_header_bytes, 1024, 1_048_576)
    _between(problems, "server.max_headers", settings.server.max_headers, 10, 1000)
    _between(problems, "server.keep_alive_seconds", settings.server.keep_alive_seconds, 0.1, 600)
    _between(
        problems,
        "server.max_connections_per_worker",
        settings.server.max_connections_per_worker,
        1,
        100_000,
    )
    _between(
        problems, "server.header_timeout_seconds", settings.server.header_timeout_seconds, 0.1, 600
    )
    _between(
        problems, "server.body_timeout_seconds", settings.server.body_timeout_seconds, 0.1, 3600
    )
    if settings.server.max_body_bytes < 1024:
        problems.append("server.max_body_bytes: must be >= 1024")


def _check_reconcile(idempotency: IdempotencySettings, problems: _Problems) -> None:
    rec = idempotency.reconcile
    if rec.settle_seconds is not None:
        _between(problems, "idempotency.reconcile.settle_seconds", rec.settle_seconds, 0, 3600)
    if not 0.1 <= rec.first_check_seconds <= rec.max_interval_seconds:
        problems.append("idempotency.reconcile: 0.1 <= first_check_seconds <= max_interval_seconds")
    if rec.give_up_seconds is not None and not (
        60 <= rec.give_up_seconds < idempotency.retention_seconds
    ):
        problems.append(
            "idempotency.reconcile.give_up_seconds: at least 60 and below retention_seconds"
        )
    if not 0.05 <= rec.poll_seconds <= 60 or not 1 <= rec.batch <= 1000:
        problems.append("idempotency.reconcile: poll_seconds 0.05-60, batch 1-1000")
