"""The homebrew entries a client registers: one pydantic model per `kind`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from domain.sheet import Ability, Document, Slug, Strict

ArmorCategory = Literal["light", "medium", "heavy", "shield"]
Size = Literal["Tiny", "Small", "Medium", "Large", "Huge", "Gargantuan"]
LevelTable = Annotated[list[Annotated[int, Field(ge=0, le=99)]], Field(min_length=20,
                                                                        max_length=20)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class _Entry(Document):
    slug: Slug
    name: Name


Level = Annotated[int, Field(ge=1, le=20)]
ProfCategory = Literal["armor", "weapon", "tool", "save", "skill", "language"]


class GrantPick(Strict):
    """A choice the document records in `skills`, `languages` or (species) `spells`."""

    what: Literal["skill", "language", "spell"]
    n: Annotated[int, Field(ge=1, le=10)]
    from_: list[Slug] | Literal["any", "standard"] = Field(default="any", alias="from")


class GrantSpell(Strict):
    spell: Slug
    at: Level = 1
    always: bool = True  # on a class/subclass: always prepared, outside the limits


class GrantAc(Strict):
    base: Annotated[int, Field(ge=0, le=30)]
    add: Annotated[list[Ability], Field(max_length=3)] = []
    shield: bool = True


class GrantHp(Strict):
    per: Literal["level", "class_level"]
    value: Annotated[int, Field(ge=1, le=5)]


class GrantChoice(Strict):
    key: Slug
    n: Annotated[int, Field(ge=1, le=10)] = 1
    options: Annotated[list[Slug], Field(max_length=50)] | None = None  # None: proficient
    proficient: bool = False


class HomebrewGrant(Strict):
    """What a homebrew class, subclass, species or background grants at a level, in the same
    form as the SRD feature grants (docs/rules.md, "Grants")."""

    name: Name
    at: Level = 1  # class level (class/subclass), character level (species/background)
    prof: dict[ProfCategory, Annotated[list[Slug], Field(max_length=30)]] = {}
    pick: Annotated[list[GrantPick], Field(max_length=5)] = []
    spells: Annotated[list[GrantSpell], Field(max_length=30)] = []
    hp: GrantHp | None = None
    ac: GrantAc | None = None
    ac_armored: Annotated[int, Field(ge=1, le=5)] | None = None
    max: dict[Ability, Annotated[int, Field(ge=20, le=30)]] = {}
    bonus: dict[Ability, Annotated[int, Field(ge=1, le=4)]] = {}
    cantrips: Annotated[int, Field(ge=1, le=5)] | None = None
    choice: GrantChoice | None = None


Grants = Annotated[list[HomebrewGrant], Field(max_length=40)]


class HomebrewClass(_Entry):
    # The JSON Schema states the rule of `_caster_needs_ability` too.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "properties": {"caster": {"enum": ["full", "half", "pact"]}},
                "required": ["caster"],
            },
            "then": {
                "properties": {"spellcasting_ability": {"type": "string"}},
                "required": ["spellcasting_ability"],
            },
        }
    )
    kind: Literal["class"]
    hit_die: Literal[6, 8, 10, 12]
    saving_throws: Annotated[list[Ability], Field(max_length=6)] = []
    armor: list[ArmorCategory] = []
    multiclass_armor: list[ArmorCategory] = []
    skill_choices: list[Slug] = []  # empty: any skill
    skill_count: Annotated[int, Field(ge=0, le=18)] = 2
    multiclass_prerequisites: dict[Ability, Annotated[int, Field(ge=1, le=30)]] = {}
    languages: list[Slug] = []
    caster: Literal["none", "full", "half", "pact"] = "none"
    spellcasting_ability: Ability | None = None
    spell_list: list[Slug] = []  # SRD or homebrew spell slugs
    cantrips_known: LevelTable | None = None
    spells_known: LevelTable | None = None  # a "known" caster
    prepared: LevelTable | None = None  # a "prepared" caster with a fixed table
    subclass_level: Annotated[int, Field(ge=1, le=20)] = 3
    subclasses: list[Slug] = []
    grants: Grants = []

    @model_validator(mode="after")
    def _caster_needs_ability(self) -> HomebrewClass:
        if self.caster != "none" and self.spellcasting_ability is None:
            raise ValueError("a spellcasting class needs spellcasting_ability")
        return self


class HomebrewSubclass(_Entry):
    kind: Literal["subclass"]
    class_: Slug = Field(alias="class")
    level: Annotated[int, Field(ge=1, le=20)] | None = None  # default: the class's level
    grants: Grants = []


class HomebrewSpecies(_Entry):
    """A 2024 species / 2014 race; with `parent` it is a subspecies / subrace."""

    kind: Literal["species"]
    parent: Slug | None = None
    size: Size = "Medium"
    speed: Annotated[int, Field(ge=0, le=120)] = 30
    ability_bonuses: dict[Ability, Annotated[int, Field(ge=-4, le=4)]] = {}  # 2014 only
    bonus_choice_count: Annotated[int, Field(ge=0, le=6)] = 0
    bonus_choice_amount: Annotated[int, Field(ge=1, le=2)] = 1
    languages: list[Slug] = []
    language_choices: Annotated[int, Field(ge=0, le=5)] = 0
    skills: list[Slug] = []
    skill_choices: Annotated[int, Field(ge=0, le=5)] = 0
    skill_choice_from: list[Slug] = []  # empty: any skill
    hp_per_level: Annotated[int, Field(ge=0, le=5)] = 0
    powerful_build: bool = False
    grants: Grants = []


class HomebrewArmor(Strict):
    category: ArmorCategory
    base_ac: Annotated[int, Field(ge=0, le=30)]
    dex_bonus: bool = True
    max_dex: Annotated[int, Field(ge=0, le=10)] | None = None
    str_minimum: Annotated[int, Field(ge=0, le=30)] = 0


class HomebrewItem(_Entry):
    """Gear, armor (with `armor`), a magic item (`magic`), a container (`capacity_lb`)."""

    # The JSON Schema states the rule of `_attunement_is_magic` too.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "properties": {"requires_attunement": {"const": True}},
                "required": ["requires_attunement"],
            },
            "then": {"properties": {"magic": {"const": True}}, "required": ["magic"]},
        }
    )
    kind: Literal["item"]
    weight: Annotated[float, Field(ge=0, le=100_000)] = 0
    cost_cp: Annotated[int, Field(ge=0)] = 0
    armor: HomebrewArmor | None = None
    magic: bool = False
    requires_attunement: bool = False
    ac_bonus: Annotated[int, Field(ge=0, le=5)] = 0
    capacity_lb: Annotated[float, Field(ge=0, le=100_000)] | None = None
    extradimensional: bool = False  # contents don't count toward the carrier's load

    @model_validator(mode="after")
    def _attunement_is_magic(self) -> HomebrewItem:
        if self.requires_attunement and not self.magic:
            raise ValueError("only a magic item can require attunement")
        return self


class HomebrewBackground(_Entry):
    kind: Literal["background"]
    skills: Annotated[list[Slug], Field(max_length=4)] = []
    language_choices: Annotated[int, Field(ge=0, le=5)] = 0
    abilities: Annotated[list[Ability], Field(max_length=3)] = []  # 2024 ability options
    feat: Slug | None = None
    grants: Grants = []


class HomebrewSpell(_Entry):
    kind: Literal["spell"]
    level: Annotated[int, Field(ge=0, le=9)]
    school: Slug
    classes: list[Slug] = []


HomebrewEntry = Annotated[
    HomebrewClass | HomebrewSubclass | HomebrewSpecies | HomebrewItem | HomebrewBackground
    | HomebrewSpell,
    Field(discriminator="kind"),
]
