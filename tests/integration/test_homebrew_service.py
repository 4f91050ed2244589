"""The homebrew service on SQLite and PostgreSQL: permissions and scope, get, replace, soft
delete, and characters that still name deleted homebrew."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from domain.characters.examples import EXAMPLE_2024
from domain.characters.service import CharacterService
from domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from domain.homebrew.models import HomebrewContent
from domain.homebrew.service import HomebrewService
from domain.sheet import CharacterDoc
from domain.users.models import User
from domain.users.schemas import Principal

BLADE = {
    "kind": "item",
    "slug": "moonlit-dagger",
    "name": "Moonlit Dagger",
    "weight": 1,
    "magic": True,
    "requires_attunement": True,
}
GUNSLINGER = {"kind": "class", "slug": "gunslinger", "name": "Gunslinger", "hit_die": 10}
DEADEYE = {"kind": "subclass", "slug": "deadeye", "name": "Deadeye", "class": "gunslinger"}


@pytest.fixture
def users(db) -> dict[str, Principal]:
    roles = {"admin": "admin", "other_admin": "admin", "dm": "dm", "player": "player"}
    with db.session() as s:
        rows = {n: User(username=n.replace("_", "-"), password_hash="-", role=r)
                for n, r in roles.items()}
        s.add_all(rows.values())
        s.flush()
        return {n: Principal(user_id=u.id, role=u.role) for n, u in rows.items()}  # type: ignore[arg-type]


@pytest.fixture
def homebrew(db) -> Callable[..., Any]:
    """Call a HomebrewService method as `principal`, in a transaction of its own."""

    def call(principal: Principal, method: str, *args: Any, **kwargs: Any) -> Any:
        with db.session() as s:
            return getattr(HomebrewService(s, principal), method)(*args, **kwargs)

    return call


def characters(db, principal: Principal, method: str, *args: Any) -> Any:
    with db.session() as s:
        return getattr(CharacterService(s, principal), method)(*args)


def with_blade() -> CharacterDoc:
    data = copy.deepcopy(EXAMPLE_2024)
    data["inventory"].append({"item": "moonlit-dagger", "attuned": True})
    return CharacterDoc.model_validate(data)


def test_only_admins_register_global_homebrew(users, homebrew):
    for role in ("player", "dm"):
        with pytest.raises(Forbidden) as err:
            homebrew(users[role], "register", "2024", BLADE)
        assert "homebrew:write:global" in err.value.detail
    assert "scope=campaign:" in err.value.detail  # the DM is told what they can do instead
    out = homebrew(users["admin"], "register", "2024", BLADE)
    assert out["scope"] == "global" and out["author_id"] == users["admin"].user_id
    assert out["created_at"].tzinfo is not None


def test_scopes_are_global_or_a_campaign(users, homebrew):
    for scope in ("campaign:0", "campaign:x", "party", "campaign:1 "):
        with pytest.raises(InvalidRequest) as err:
            homebrew(users["admin"], "register", "2024", BLADE, scope=scope)
        assert err.value.code == "homebrew_scope_invalid"
    # Without a membership check (as the character service builds it), no campaign scope.
    with pytest.raises(InvalidRequest) as err:
        homebrew(users["admin"], "register", "2024", BLADE, scope="campaign:1")
    assert err.value.code == "homebrew_scope_unavailable"


def test_get_and_list(users, homebrew):
    homebrew(users["admin"], "register", "2024", BLADE)
    got = homebrew(users["player"], "get", "2024", "moonlit-dagger")
    assert got["data"]["requires_attunement"] is True and got["kind"] == "item"
    assert [h["slug"] for h in homebrew(users["player"], "list", "2024")] == ["moonlit-dagger"]
    with pytest.raises(NotFound):
        homebrew(users["player"], "get", "2014", "moonlit-dagger")
    with pytest.raises(InvalidRequest):
        homebrew(users["player"], "get", "1999", "moonlit-dagger")


def test_replace_keeps_the_slug_and_is_checked(db, users, homebrew):
    homebrew(users["admin"], "register", "2024", BLADE)
    before = characters(db, users["player"], "validate_document", with_blade())
    assert before.validation.valid

    out = homebrew(users["admin"], "replace", "2024", "moonlit-dagger",
                   {**BLADE, "requires_attunement": False})
    assert out["data"]["requires_attunement"] is False and out["updated_at"] > out["created_at"]
    # The per-process rules follow the replacement.
    after = characters(db, users["player"], "validate_document", with_blade())
    assert [e.code for e in after.validation.errors] == ["attunement_not_allowed"]

    with pytest.raises(InvalidRequest) as err:
        homebrew(users["admin"], "replace", "2024", "moonlit-dagger", {**BLADE, "slug": "dagger"})
    assert err.value.code == "homebrew_slug_mismatch"
    with pytest.raises(NotFound):
        homebrew(users["admin"], "replace", "2024", "dagger", {**BLADE, "slug": "dagger"})
    spell = {"kind": "spell", "slug": "moonlit-dagger", "name": "M", "level": 1,
             "school": "evocation", "classes": ["tinker"]}
    with pytest.raises(Conflict) as err:
        homebrew(users["admin"], "replace", "2024", "moonlit-dagger", spell)
    assert err.value.code == "homebrew_conflict" and "tinker" in err.value.detail
    # The kind may change, as long as the entry fits the rules.
    spell["classes"] = ["wizard"]
    assert homebrew(users["admin"], "replace", "2024", "moonlit-dagger", spell)["kind"] == "spell"


def test_owner_or_admin_replaces_and_deletes(users, homebrew):
    homebrew(users["admin"], "register", "2024", BLADE)
    homebrew(users["admin"], "register", "2024", GUNSLINGER)
    # The owner, demoted to DM, may delete their entry but no longer write global homebrew.
    demoted = Principal(user_id=users["admin"].user_id, role="dm")
    with pytest.raises(Forbidden):
        homebrew(demoted, "replace", "2024", "moonlit-dagger", BLADE)
    for stranger in (users["dm"], users["player"]):
        with pytest.raises(Forbidden) as err:
            homebrew(stranger, "delete", "2024", "moonlit-dagger")
        assert "owner" in err.value.detail
    homebrew(demoted, "delete", "2024", "moonlit-dagger")
    homebrew(users["other_admin"], "replace", "2024", "gunslinger", {**GUNSLINGER, "hit_die": 8})
    homebrew(users["other_admin"], "delete", "2024", "gunslinger")
    assert homebrew(users["player"], "list", "2024") == []
    with pytest.raises(NotFound):
        homebrew(users["admin"], "delete", "2024", "gunslinger")


def test_delete_is_soft_and_characters_are_told(db, users, homebrew):
    first = homebrew(users["admin"], "register", "2024", BLADE)
    character = characters(db, users["player"], "create", with_blade())
    homebrew(users["admin"], "delete", "2024", "moonlit-dagger")

    with db.session() as s:
        row = s.scalar(select(HomebrewContent).where(HomebrewContent.slug == "moonlit-dagger"))
        assert row is not None and row.deleted_at is not None
    with pytest.raises(NotFound):
        homebrew(users["player"], "get", "2024", "moonlit-dagger")
    stored = characters(db, users["player"], "get", character.id)
    path = f"inventory.{len(EXAMPLE_2024['inventory'])}.item"
    errors = [e for e in stored.validation.errors if e.path == path]
    assert [e.code for e in errors] == ["homebrew_deleted"]
    assert "moonlit-dagger" in errors[0].message and "register" in errors[0].fix
    assert "unknown_reference" not in {e.code for e in stored.validation.errors}

    # Registering the slug again brings the entry back (on the same row) and the character
    # is valid again.
    again = homebrew(users["other_admin"], "register", "2024", BLADE)
    assert again["id"] == first["id"] and again["author_id"] == users["other_admin"].user_id
    assert characters(db, users["player"], "get", character.id).validation.valid


def test_homebrew_others_refer_to_cannot_be_deleted(users, homebrew):
    homebrew(users["admin"], "register", "2024", GUNSLINGER)
    homebrew(users["admin"], "register", "2024", DEADEYE)
    with pytest.raises(Conflict) as err:
        homebrew(users["admin"], "delete", "2024", "gunslinger")
    assert err.value.code == "homebrew_in_use" and "deadeye" in err.value.detail
    with pytest.raises(Conflict):  # nor replaced by something the subclass cannot name
        homebrew(users["admin"], "replace", "2024", "gunslinger",
                 {**BLADE, "slug": "gunslinger"})
    homebrew(users["admin"], "delete", "2024", "deadeye")
    homebrew(users["admin"], "delete", "2024", "gunslinger")
