"""Production's password hashing: the suite hashes with a cheaper Argon2id (tests/conftest.py)."""

from __future__ import annotations

from argon2 import PasswordHasher

from domain.users import passwords


def test_production_cost(production_hasher: PasswordHasher, monkeypatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", production_hasher)
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # RFC 9106's second choice
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "correct horse staple")
