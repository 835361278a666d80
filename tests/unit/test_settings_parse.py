"""parse_settings: ${ENV} interpolation, validation, and error messages naming the key."""

from __future__ import annotations

import textwrap

import pytest

from gateway.config import parse_settings
from gateway.settings import ConfigError

HASH = "a" * 64

MINIMAL = """
programs:
  - id: cp
    name: CP Extender
    provider: cpextender
    base_url: https://cp.example.test
    auth: {type: bearer, token: x}
"""


def _yaml(text: str) -> str:
    return textwrap.dedent(text)


def _error(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as excinfo:
        parse_settings(_yaml(text), {} if env is None else env)
    return str(excinfo.value)


def _program(extra: str = "", *, provider: str = "cpextender", auth: str | None = None) -> str:
    auth_block = auth if auth is not None else "    auth: {type: bearer, token: x}\n"
    return (
        "programs:\n"
        "  - id: cp\n"
        "    name: Program\n"
        f"    provider: {provider}\n"
        "    base_url: https://cp.example.test\n" + auth_block + extra
    )


def _client(programs: str = "[cp]", api_key: str = HASH, client_id: str = "shop") -> str:
    return (
        f"  - id: {client_id}\n"
        f"    api_key_sha256: '{api_key}'\n"
        f"    programs: {programs}\n"
        "    scopes: [members:read]\n"
    )


# --- valid configurations ----------------------------------------------------------------


def test_minimal_configuration():
    settings = parse_settings(MINIMAL, {})

    [program] = settings.programs
    assert (program.id, program.provider, program.base_url) == (
        "cp",
        "cpextender",
        "https://cp.example.test",
    )
    assert (program.auth["type"], program.auth["token"]) == ("bearer", "x")
    assert program.options == {}
    assert settings.program("cp") is program
    assert settings.program("nope") is None


def test_empty_document_gives_defaults():
    settings = parse_settings("", {})
    assert settings.programs == []
    assert settings.clients == []
    assert settings.server.port == 8080


def test_provider_options_are_accepted():
    settings = parse_settings(
        _program("    options: {default_reason: Bonus, health_customer_number: CPOL-1}\n"), {}
    )
    assert settings.programs[0].options == {
        "default_reason": "Bonus",
        "health_customer_number": "CPOL-1",
    }
    alpha = parse_settings(
        _program("    options: {recipients_path: /v2/recipients/}\n", provider="alpha"), {}
    )
    assert alpha.programs[0].options == {"recipients_path": "/v2/recipients/"}


def test_client_hash_is_normalized():
    text = _program() + "clients:\n" + _client(api_key=f" {'AB' * 32} ")
    [client] = parse_settings(text, {}).clients
    assert client.api_key_sha256 == "ab" * 32
    assert client.allows_program("cp")
    assert not client.allows_program("other")


def test_client_wildcard_program():
    [client] = parse_settings(_program() + "clients:\n" + _client("['*']"), {}).clients
    assert client.allows_program("anything")


# --- interpolation -----------------------------------------------------------------------


def test_interpolation_substitutes_variables():
    text = _program(
        auth="    auth: {type: bearer, token: '${CP_TOKEN}'}\n"
        "    timeouts: {read_seconds: '${CP_READ:-7.5}'}\n"
    ).replace("https://cp.example.test", "https://${CP_HOST}:8443/api")

    settings = parse_settings(text, {"CP_TOKEN": "s3cret", "CP_HOST": "cp.internal"})

    program = settings.programs[0]
    assert program.auth["token"] == "s3cret"
    assert program.base_url == "https://cp.internal:8443/api"
    assert program.timeouts.read_seconds == 7.5


def test_interpolated_strings_convert_to_numbers():
    settings = parse_settings(
        "server: {port: '${PORT}', docs: '${DOCS:-false}'}\n", {"PORT": "9000"}
    )
    assert settings.server.port == 9000
    assert settings.server.docs is False


def test_environment_variable_wins_over_default():
    settings = parse_settings("server: {host: '${HOST:-127.0.0.1}'}\n", {"HOST": "10.1.2.3"})
    assert settings.server.host == "10.1.2.3"


def test_empty_default_is_allowed():
    settings = parse_settings("redis: {url: 'redis://${REDIS_HOST:-}'}\n", {})
    assert settings.redis.url == "redis://"


def test_substituted_values_are_not_interpolated_again():
    settings = parse_settings(MINIMAL.replace("token: x", "token: '${TOKEN}'"), {"TOKEN": "${X}"})
    assert settings.programs[0].auth["token"] == "${X}"


def test_os_environ_is_used_when_no_env_is_given(monkeypatch):
    monkeypatch.setenv("LG_TEST_CP_TOKEN", "from-os")
    settings = parse_settings(MINIMAL.replace("token: x", "token: '${LG_TEST_CP_TOKEN}'"))
    assert settings.programs[0].auth["token"] == "from-os"


def test_default_applies_to_an_empty_variable():
    settings = parse_settings("server: {host: '${HOST:-127.0.0.1}'}\n", {"HOST": ""})
    assert settings.server.host == "127.0.0.1"


def test_missing_variable_names_the_key():
    message = _error(MINIMAL.replace("token: x", "token: '${CP_TOKEN}'"))
    assert message == "programs[0].auth.token: environment variable CP_TOKEN is not set"


def test_missing_variable_in_a_list_names_the_index():
    message = _error(_program() + "clients:\n" + _client("[cp, '${SECOND}']"))
    assert message == "clients[0].programs[1]: environment variable SECOND is not set"


# --- structure errors --------------------------------------------------------------------


def test_unknown_key_is_named():
    message = _error(MINIMAL + "    colour: blue\n")
    assert message == "programs[0]: Object contains unknown field `colour`"


def test_unknown_nested_key_is_named():
    message = _error(MINIMAL.replace("token: x", "token: x, tokn: y"))
    assert message == "programs[0].auth: Object contains unknown field `tokn`"


def test_unknown_top_level_section_is_named():
    assert "`bogus`" in _error("bogus: 1\n")


def test_missing_required_key_is_named():
    message = _error(MINIMAL.replace("    name: CP Extender\n", ""))
    assert message == "programs[0]: Object missing required field `name`"


def test_wrong_type_is_named():
    assert _error("server: {port: eighty}\n") == "server.port: Expected `int`, got `str`"


def test_invalid_scope_is_named():
    text = _program() + "clients:\n" + _client().replace("members:read", "members:fly")
    assert _error(text) == "clients[0].scopes[0]: Invalid enum value 'members:fly'"


def test_invalid_yaml():
    assert _error("programs: [\n").startswith("(file): not valid YAML")


def test_document_must_be_a_mapping():
    assert _error("- one\n- two\n") == "(top level): expected a mapping of sections"


# --- semantic checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "api_key",
    ["abc", "g" * 64, "a" * 63, "a" * 65, "sha256:" + "a" * 57],
)
def test_bad_client_hash(api_key):
    message = _error(_program() + "clients:\n" + _client(api_key=api_key))
    assert message == "clients[0].api_key_sha256: must be 64 hex characters (SHA-256)"


def test_client_referencing_an_unknown_program():
    message = _error(_program() + "clients:\n" + _client("[cp, loyalty-eu]"))
    assert message == "clients[0].programs[1]: unknown program 'loyalty-eu'"


def test_duplicate_program_ids():
    text = _program() + _program().removeprefix("programs:\n")
    assert _error(text) == "programs[1].id: duplicate program id 'cp'"


def test_duplicate_client_ids():
    text = _program() + "clients:\n" + _client() + _client()
    # both faults of the second client in one run
    assert _error(text).splitlines() == [
        "clients[1].id: duplicate client id 'shop'",
        "clients[1].api_key_sha256: the same key is given to another client",
    ]


def test_every_fault_is_reported_in_one_run():
    text = (
        "server: {port: eighty}\n"
        + _program("    balance_ttl_seconds: -1\n    retries: {max_retries: 9}\n")
        + "  - {id: Bad, name: B, provider: cpextender, base_url: ftp://x, timeouts: 5}\n"
        + "  - {id: ok2, name: C, provider: cpextender, base_url: http://x}\n"
        + "clients:\n"
        + _client("[cp, Bad, nope]")
        + "idempotency: {lease_seconds: 0}\n"
    )
    assert _error(text).splitlines() == [
        "server.port: Expected `int`, got `str`",
        "programs[1].timeouts: Expected `object`, got `int`",
        "programs[0].balance_ttl_seconds: must be >= 0",
        "programs[0].retries.max_retries: between 0 and 5",
        "clients[0].programs[2]: unknown program 'nope'",
        "idempotency.lease_seconds: between 1 and 300",
    ]


def test_all_unset_variables_are_reported_before_any_rule():
    text = MINIMAL.replace("token: x", "token: '${A_TOKEN}'").replace(
        "base_url: https://cp.example.test", "base_url: '${A_HOST}'"
    )
    assert _error(text).splitlines() == [
        "programs[0].base_url: environment variable A_HOST is not set",
        "programs[0].auth.token: environment variable A_TOKEN is not set",
    ]


def test_an_unterminated_reference_is_refused_not_taken_literally():
    message = _error(MINIMAL.replace("token: x", "token: '${CP_API_TOKEN'"))
    assert message == "programs[0].auth.token: ${ without a closing } (a reference is ${NAME})"


def test_unknown_provider():
    message = _error(_program(provider="acme"))
    # the list of known providers grows as connectors are added
    assert message.startswith("programs[0].provider: unknown provider 'acme' (")
    assert "alpha" in message
    assert "cpextender" in message


@pytest.mark.parametrize("provider", ["cpextender", "alpha"])
def test_unknown_provider_option(provider):
    message = _error(_program("    options: {nonsense: 1}\n", provider=provider))
    assert message.startswith("programs[0].options: ")
    assert "nonsense" in message


def test_provider_option_of_the_wrong_type():
    message = _error(_program("    options: {recipients_path: 5}\n", provider="alpha"))
    assert message.startswith("programs[0].options: ")
    assert "programs[0].options.recipients_path" in message


@pytest.mark.parametrize("provider", ["cpextender", "alpha"])
def test_bearer_auth_needs_a_token(provider):
    message = _error(_program(provider=provider, auth="    auth: {type: bearer}\n"))
    assert message == "programs[0].auth.token: required for this auth type"


def test_header_auth_needs_a_header_name():
    message = _error(_program(auth="    auth: {type: header, token: x}\n"))
    assert message == "programs[0].auth.header: required for auth type header"


def test_an_auth_key_no_provider_knows_is_refused():
    message = _error(_program(auth="    auth: {type: bearer, token: x, tokn: y}\n"))
    assert message == "programs[0].auth: Object contains unknown field `tokn`"


def test_an_auth_key_of_another_providers_shape_is_ignored():
    """As documented: keys that do not belong to the chosen type are accepted and ignored."""
    settings = parse_settings(
        _program(auth="    auth: {type: bearer, token: x, username: u, private_key_file: f}\n")
    )
    assert settings.programs[0].auth["username"] == "u"


def test_an_auth_value_of_the_wrong_type_names_its_key():
    message = _error(_program(auth="    auth: {type: bearer, token: [1]}\n"))
    assert message.startswith("programs[0].auth: Expected `str | null`, got `array`")
    assert message.endswith("`programs[0].auth.token`")


def test_auth_type_the_provider_cannot_use():
    message = _error(_program(auth="    auth: {type: jwt_bearer}\n"))
    assert message == "programs[0].auth.type: must be bearer, header or none for this provider"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("    balance_ttl_seconds: -1\n", "programs[0].balance_ttl_seconds: must be >= 0"),
        ("    max_stale_seconds: -1\n", "programs[0].max_stale_seconds: must be >= 0"),
        (
            "    points_value: {points_per_unit: 0, currency: USD}\n",
            "programs[0].points_value.points_per_unit: must be > 0",
        ),
    ],
)
def test_program_number_checks(extra, expected):
    assert _error(_program(extra)) == expected


@pytest.mark.parametrize("program_id", ["CP", "-cp", "cp_eu", "c" * 64])
def test_program_id_must_be_a_slug(program_id):
    message = _error(_program().replace("id: cp", f"id: '{program_id}'"))
    assert message == "programs[0].id: must be a lowercase slug (a-z, 0-9, '-')"


def test_base_url_needs_a_scheme():
    message = _error(_program().replace("https://cp.example.test", "cp.example.test"))
    assert message == "programs[0].base_url: must start with http:// or https://"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("idempotency: {retention_seconds: 59}\n", "idempotency.retention_seconds: must be >= 60"),
        ("idempotency: {lease_seconds: 0}\n", "idempotency.lease_seconds: between 1 and 300"),
        ("server: {max_body_bytes: 1023}\n", "server.max_body_bytes: must be >= 1024"),
        (
            "idempotency: {reconcile: {settle_seconds: -1}}\n",
            "idempotency.reconcile.settle_seconds: between 0 and 3600",
        ),
        (
            "idempotency: {reconcile: {first_check_seconds: 10, max_interval_seconds: 5}}\n",
            "idempotency.reconcile: 0.1 <= first_check_seconds <= max_interval_seconds",
        ),
        (
            "idempotency: {retention_seconds: 3600, reconcile: {give_up_seconds: 3600}}\n",
            "idempotency.reconcile.give_up_seconds: at least 60 and below retention_seconds",
        ),
        (
            "idempotency: {reconcile: {batch: 0}}\n",
            "idempotency.reconcile: poll_seconds 0.05-60, batch 1-1000",
        ),
    ],
)
def test_global_number_checks(text, expected):
    assert _error(text) == expected


def test_give_up_defaults_to_six_hours_or_half_the_retention():
    from gateway.settings import IdempotencySettings

    assert IdempotencySettings().give_up_seconds == 21_600
    assert IdempotencySettings(retention_seconds=3600).give_up_seconds == 1800


def test_inline_secrets_are_reported():
    from gateway.config import inline_secrets

    text = (
        "clients:\n  - {id: a, api_key_sha256: '${A_HASH}', programs: ['*'], scopes: []}\n"
        "  - {id: b, api_key_sha256: abc, programs: ['*'], scopes: []}\n"
        "programs:\n  - {id: p, provider: cpextender, auth: {type: bearer, token: plain}}\n"
        "  - {id: q, provider: cpextender, auth: {type: bearer, token: '${TOKEN}'}}\n"
        "  - {id: r, provider: irt, auth: {type: credentials, username: u, password: pw}}\n"
        "  - {id: s, provider: nope, auth: {token: plain}}\n"
    )
    # each provider's own secret keys: IRT's user name is not one, an unknown provider has none
    assert inline_secrets(text) == [
        "programs[0].auth.token",
        "programs[2].auth.password",
        "clients[1].api_key_sha256",
    ]
