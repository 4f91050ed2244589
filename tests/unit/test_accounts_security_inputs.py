"""Pure checks: NUL bytes and roles in account requests, the client address behind proxies."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from pydantic import ValidationError

from cluster.rate_limit import client_address
from cluster.settings import Settings
from domain.users.schemas import LoginRequest, RefreshRequest, RegisterRequest

PASSWORD = "correct horse battery"


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (RegisterRequest, {"username": "ali\x00ce", "password": PASSWORD}),
        (RegisterRequest, {"username": "alice", "password": PASSWORD + "\x00"}),
        (RegisterRequest, {"username": "alice", "password": PASSWORD, "invitation": "a\x00"}),
        (LoginRequest, {"username": "alice", "password": "\x00" + PASSWORD}),
        (LoginRequest, {"username": "alice\x00", "password": PASSWORD}),
        (RefreshRequest, {"refresh_token": "token\x00"}),
    ],
)
def test_nul_characters_are_refused(model, body):
    with pytest.raises(ValidationError):
        model.model_validate(body)


@pytest.mark.parametrize("role", ["dm", "admin"])
def test_self_registration_cannot_choose_a_role(role):
    with pytest.raises(ValidationError) as refused:
        RegisterRequest(username="alice", password=PASSWORD, role=role)
    assert refused.value.errors()[0]["loc"] == ("role",)
    assert RegisterRequest(username="alice", password=PASSWORD).role == "player"


PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", "1.2.3.4", "203.0.113.5"),  # untrusted peer: the header is ignored
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.2", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the client wrote 6.6.6.6 itself
        ("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.9.9.9", "1.2.3.4"),  # two proxies
        ("10.0.0.2", "10.1.1.1, 10.9.9.9", "10.1.1.1"),  # only proxies: the farthest
        ("10.0.0.2", "1.2.3.4, not-an-ip", "10.0.0.2"),  # garbage: the nearest vouched hop
        ("::ffff:10.0.0.2", "1.2.3.4", "1.2.3.4"),  # IPv4-mapped peer
        ("2001:db8::1", " 2a00:1450:0::0001 , 2001:db8::2", "2a00:1450::1"),  # canonical
        ("testclient", "1.2.3.4", "testclient"),
    ],
)
def test_client_address_trusts_only_configured_proxies(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_header_never_counts():
    assert client_address("10.0.0.2", "1.2.3.4", []) == "10.0.0.2"


def test_trusted_proxies_setting_takes_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("LOREKEEPER_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1,::1")
    assert [str(n) for n in Settings().trusted_proxies] == ["10.0.0.0/8", "192.0.2.1/32", "::1/128"]
    monkeypatch.delenv("LOREKEEPER_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == []
