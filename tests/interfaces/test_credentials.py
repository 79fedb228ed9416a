"""Credential parsing, the API/UI login policy, constant-time checks, flag validation and the exposure warning."""
from __future__ import annotations

import doctest
import logging
import secrets
from pathlib import Path

import pytest

from modules.interfaces import cli, credentials
from modules.interfaces.credentials import (Credential, CredentialError, CredentialStore, api_credentials,
                                            exposure_warnings, parse_credentials, read_credentials_file,
                                            ui_credentials)

INSTALL = Path("/opt/sd")


def parse(*argv: str) -> cli.LaunchOptions:
    return cli.parse(argv, {}, install_dir=INSTALL)


def pairs(store_or_creds) -> list[tuple[str, str]]:
    creds = store_or_creds.credentials if isinstance(store_or_creds, CredentialStore) else store_or_creds
    return [(c.user, c.password) for c in creds]


def test_doctests():
    from modules.interfaces.http_api import basic_auth

    for module in (credentials, basic_auth):
        assert doctest.testmod(module).failed == 0


def test_split_on_commas_and_first_colon_with_blanks_ignored():
    assert pairs(parse_credentials(" alice : s3:cr:et ,, ,bob:pw,  ")) == [("alice", "s3:cr:et"), ("bob", "pw")]
    assert parse_credentials("") == () and parse_credentials(" , ") == ()


@pytest.mark.parametrize("text", ["alice:pw,hunter2", "alice:pw,:pw", "alice:"])
def test_bad_entries_are_typed_errors_that_do_not_echo_the_text(text):
    with pytest.raises(CredentialError) as exc:
        parse_credentials(text, source="--api-auth")
    message = str(exc.value)
    assert message.startswith("--api-auth: entry ") and "hunter2" not in message and "pw" not in message


def test_password_never_in_repr():
    cred = Credential("alice", "s3cret")
    assert "s3cret" not in repr(cred) and "s3cret" not in repr(CredentialStore((cred,)))


def test_file_lines_in_flag_format(tmp_path):
    path = tmp_path / "logins.txt"
    path.write_text("alice:a:1, bob:b\n\n  carol:c  \n", encoding="utf-8")
    assert pairs(read_credentials_file(path)) == [("alice", "a:1"), ("bob", "b"), ("carol", "c")]
    path.write_text("alice:a\nsecret-without-colon\n", encoding="utf-8")
    with pytest.raises(CredentialError, match="line 2: entry 1") as exc:
        read_credentials_file(path)
    assert "secret-without-colon" not in str(exc.value)
    with pytest.raises(CredentialError, match="cannot read"):
        read_credentials_file(tmp_path / "missing.txt")


def test_verify_accepts_only_an_exact_pair():
    store = CredentialStore(parse_credentials("alice:pw1,bob:pw:2,jürgen:pässword"))
    assert store.verify("bob", "pw:2") and store.verify("alice", "pw1") and store.verify("jürgen", "pässword")
    for user, password in [("bob", "pw1"), ("alice", "pw:2"), ("carol", "pw1"), ("alice", ""), ("", ""),
                           ("Alice", "pw1"), ("alice", "pw1 ")]:
        assert not store.verify(user, password), (user, password)
    assert not CredentialStore() and not CredentialStore().verify("", "")


@pytest.mark.parametrize(("user", "password"), [("alice", "pw1"), ("carol", "x"), ("carol", "pw3")])
def test_verify_compares_every_entry_whatever_matches(monkeypatch, user, password):
    calls = []
    real = secrets.compare_digest

    def counting(a, b):
        calls.append((a, b))
        return real(a, b)
    monkeypatch.setattr(credentials.secrets, "compare_digest", counting)
    CredentialStore(parse_credentials("alice:pw1,bob:pw2,carol:pw3")).verify(user, password)
    assert len(calls) == 6, "user and password of all three entries, no early exit"


def test_api_takes_api_auth_else_the_ui_logins(tmp_path):
    path = tmp_path / "more.txt"
    path.write_text("carol:c\n", encoding="utf-8")
    ui_only = parse("--gradio-auth", "alice:a", "--gradio-auth-path", str(path))
    assert pairs(ui_credentials(ui_only)) == [("alice", "a"), ("carol", "c")]
    assert pairs(api_credentials(ui_only)) == [("alice", "a"), ("carol", "c")], "a protected UI has no open API"
    both = parse("--gradio-auth", "alice:a", "--api-auth", "bot:key")
    assert pairs(api_credentials(both)) == [("bot", "key")] and pairs(ui_credentials(both)) == [("alice", "a")]
    assert not api_credentials(parse()) and not ui_credentials(parse())


@pytest.mark.parametrize("argv", [("--api-auth", "alice:pw,hunter2"), ("--gradio-auth", "hunter2"),
                                  ("--api-auth", " , "), ("--cors-allow-origins-regex", "(unclosed")])
def test_bad_flag_values_are_usage_errors_without_the_secret(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argv[0]}" in err and "hunter2" not in err


def test_help_documents_the_login_policy(capsys):
    with pytest.raises(SystemExit):
        parse("--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "without it the API takes the --gradio-auth logins" in text
    assert "default: no CORS header at all" in text and "never credentials or bodies" in text


@pytest.mark.parametrize(("argv", "ui", "expected"), [
    ((), True, None),
    (("--share",), True, None),  # no tunnel is opened: still bound to loopback
    (("--server-name", "localhost"), True, None),
    (("--server-name", "::1"), True, None),
    (("--listen",), True, "NO authentication"),
    (("--server-name", "sd.lan", "--nowebui"), False, "NO authentication"),
    (("--listen", "--gradio-auth", "alice:pw"), True, None),
    (("--listen", "--api-auth", "bot:key"), True, "the UI has no login"),
    (("--listen", "--api-auth", "bot:key", "--nowebui"), False, None),
])
def test_exposure_warnings(argv, ui, expected):
    warnings = exposure_warnings(parse(*argv), ui=ui)
    if expected is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and expected in warnings[0] and "SECURITY WARNING" in warnings[0]


def test_webui_start_up_warns_loudly_or_exits_on_a_bad_auth_file(caplog, tmp_path):
    import webui

    with caplog.at_level(logging.WARNING):
        webui.check_access(parse("--listen"), ui=True)
        webui.check_access(parse(), ui=True)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "NO authentication" in caplog.records[0].getMessage()
    with pytest.raises(SystemExit) as exc:
        webui.check_access(parse("--gradio-auth-path", str(tmp_path / "missing.txt")), ui=True)
    assert "--gradio-auth-path" in str(exc.value.code)
