"""The character sheet: the document a client sends and that is stored, versioned and
validated, and what the rules engine says about it (issues, reports, derived values).

A leaf module: it imports nothing else from `domain`, so every domain package can use it.
Shape checks live here (types, bounds that no rules table could allow, unknown fields);
rules checks (is this spell on the wizard list?) live in `domain.rules.validation` so that
an invalid-by-the-rules character still parses and gets a useful report.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

Ruleset = Literal["2014", "2024"]
AbilityMethod = Literal["point_buy", "standard_array", "rolled", "manual"]
Ability = Literal["str", "dex", "con", "int", "wis", "cha"]
ABILITIES: tuple[Ability, ...] = ("str", "dex", "con", "int", "wis", "cha")
# Where an ability bonus comes from. 2014: race/subrace, class ASIs, feats. 2024: background,
# class ASIs, feats. "theme" bonuses are written by theme transitions only.
# "feature": a class feature's increase (Primal Champion), its note the feature.
BonusSource = Literal["race", "subrace", "species", "background", "asi", "feat", "theme",
                      "feature", "other"]
# Where a spell on the character's list comes from; only "class" spells count against a
# class's limits.
SpellSource = Literal["class", "species", "feat", "background", "item"]

# SRD index slugs: lower-case words joined by hyphens ("chain-mail", "fire-bolt").
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]
# Absurd numbers are shape errors (422), not rules errors: no table goes near these bounds.
Score = Annotated[int, Field(ge=0, le=99)]


def _whole_numbers(data: Any) -> Any:
    """JSON has one number type: 3.0 is the integer 3, as JSON Schema counts it."""
    if isinstance(data, float) and data.is_integer():
        return int(data)
    if isinstance(data, dict):
        return {k: _whole_numbers(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_whole_numbers(v) for v in data]
    return data


class Strict(BaseModel):
    """What clients send: unknown fields are errors, and values must have the JSON type that
    the schema states (`false` or "3" is not an integer)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


class Document(Strict):
    """A whole request body. JSON has one number type, so 3.0 is the integer 3 as JSON Schema
    counts it: when strict validation fails only on such numbers, they are made ints and the
    body validated again. Done here, once per body, rather than in every nested model: the
    common case pays nothing (a walk per model made parsing 7x slower)."""

    @model_validator(mode="wrap")
    @classmethod
    def _json_numbers(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            if not any(_whole_float(e) for e in exc.errors()):
                raise
        return handler(_whole_numbers(data))


def _whole_float(error: Any) -> bool:
    value = error.get("input")
    return error["type"] == "int_type" and isinstance(value, float) and value.is_integer()


class Abilities(Strict):
    str: Score
    dex: Score
    con: Score
    int: Score
    wis: Score
    cha: Score

    def as_dict(self) -> dict[Ability, int]:
        return {a: getattr(self, a) for a in ABILITIES}


class AbilityBonus(Strict):
    ability: Ability
    value: Annotated[int, Field(ge=-10, le=10)]
    source: BonusSource
    # For feats/themes: which one ("grappler", "grimdark"); for ASIs: the class and level.
    note: Annotated[str, StringConstraints(max_length=200)] | None = None


class ClassLevel(Strict):
    class_: Slug = Field(alias="class")
    level: Annotated[int, Field(ge=0, le=99)]
    subclass: Slug | None = None


class KnownSpell(Strict):
    name: Slug
    # The class that knows it (source "class"); for a feat, the feat's spell list (Magic
    # Initiate: cleric, druid or wizard).
    class_: Slug | None = Field(default=None, alias="class")
    prepared: bool | None = None
    source: SpellSource = "class"
    # The feat or item that gives it (source "feat" / "item"), e.g. "magic-initiate".
    granted_by: Slug | None = None


# A feature choice: one option, or several (expertise, metamagic). Keys are choice slugs
# ("divine-order", "fighting-style", "expertise"); see docs/rules.md.
ChoiceValue = Slug | Annotated[list[Slug], Field(max_length=30)]


class InventoryItem(Strict):
    item: Slug
    quantity: Annotated[int, Field(ge=1, le=100_000)] = 1
    equipped: bool = False
    attuned: bool = False
    # The slug of another inventory entry that holds this one (a backpack, a bag of holding).
    container: Slug | None = None


class Currency(Strict):
    cp: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    sp: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    ep: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    gp: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    pp: Annotated[int, Field(ge=0, le=10_000_000)] = 0


class CharacterDoc(Document):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    ruleset: Ruleset
    species: Slug | None = None  # 2024
    subspecies: Slug | None = None  # 2024 lineage / ancestry, e.g. "elven-lineage-high-elf"
    race: Slug | None = None  # 2014
    subrace: Slug | None = None  # 2014
    background: Slug
    classes: Annotated[list[ClassLevel], Field(min_length=1, max_length=13)]
    ability_method: AbilityMethod
    base_abilities: Abilities
    ability_bonuses: Annotated[list[AbilityBonus], Field(max_length=60)] = []
    xp: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    hit_points: Annotated[int, Field(ge=0, le=10_000)] | None = None  # maximum HP
    languages: Annotated[list[Slug], Field(max_length=50)] = []
    skills: Annotated[list[Slug], Field(max_length=30)] = []
    spells: Annotated[list[KnownSpell], Field(max_length=500)] = []
    inventory: Annotated[list[InventoryItem], Field(max_length=1000)] = []
    currency: Currency = Currency()
    theme: Slug | None = None
    # Feature choices (Divine Order, fighting style, expertise...). Optional: documents
    # stored before choices existed read as {}.
    choices: Annotated[dict[Slug, ChoiceValue], Field(max_length=60)] = {}

    def dump(self) -> dict:
        """The JSON form that is stored and returned (aliases, e.g. `class`)."""
        return self.model_dump(mode="json", by_alias=True)


def shape_errors(exc: ValidationError) -> list[dict]:
    """Pydantic's errors as the API reports them: dotted path, code, message."""
    return [
        {"path": ".".join(map(str, e["loc"])), "code": e["type"], "message": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]


class Issue(BaseModel):
    """One finding of the rules engine."""

    code: str
    path: str  # dotted path into the document, e.g. "classes.1.level"
    message: str
    fix: str


class ValidationReport(BaseModel):
    valid: bool
    errors: list[Issue] = []
    warnings: list[Issue] = []


class SpellSlots(BaseModel):
    caster_level: int
    slots: list[int]  # slots[i] = number of slots of spell level i+1
    pact_slots: int = 0
    pact_slot_level: int = 0


class Derived(BaseModel):
    """Values computed from a document and the rules; returned with every character."""

    abilities: dict[Ability, int]  # base + bonuses
    modifiers: dict[Ability, int]
    total_level: int
    proficiency_bonus: int
    spell_slots: SpellSlots
    armor_class: int
    carrying_capacity: float  # pounds
    load: float  # pounds carried, containers' contents included
    attuned_items: int
