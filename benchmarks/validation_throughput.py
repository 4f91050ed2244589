"""validate + derive throughput, in-process on one core.

Run: OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/validation_throughput.py [seconds]
A typical level-5 character: a 2024 wizard with 12 spells and 15 inventory entries.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from domain.rules import derive, load_rules, validate
from domain.sheet import CharacterDoc

CHARACTER = {
    "name": "Bench", "ruleset": "2024", "species": "elf", "subspecies": "elven-lineage-high-elf",
    "background": "sage", "classes": [{"class": "wizard", "level": 5, "subclass": "evoker"}],
    "ability_method": "point_buy",
    "base_abilities": {"str": 8, "dex": 14, "con": 14, "int": 15, "wis": 12, "cha": 8},
    "ability_bonuses": [{"ability": "int", "value": 2, "source": "background"},
                        {"ability": "con", "value": 1, "source": "background"},
                        {"ability": "int", "value": 1, "source": "asi", "note": "wizard 4"},
                        {"ability": "dex", "value": 1, "source": "asi", "note": "wizard 4"}],
    "xp": 6500, "hit_points": 32,
    "languages": ["common", "elvish", "draconic"],
    "skills": ["arcana", "history", "investigation", "medicine", "perception"],
    "spells": [{"name": n, "class": "wizard", "prepared": p} for n, p in [
        ("fire-bolt", None), ("light", None), ("mage-hand", None), ("prestidigitation", None),
        ("magic-missile", True), ("shield", True), ("detect-magic", True), ("misty-step", True),
        ("fireball", True), ("counterspell", True), ("sleep", True), ("web", False)]],
    "inventory": [{"item": i, "quantity": q, "equipped": e, "attuned": a, "container": c}
                  for i, q, e, a, c in [
        ("quarterstaff", 1, True, False, None), ("dagger", 2, False, False, "backpack"),
        ("spellbook", 1, False, False, None), ("backpack", 1, False, False, None),
        ("rations", 5, False, False, "backpack"), ("waterskin", 1, False, False, None),
        ("torch", 5, False, False, "backpack"), ("tinderbox", 1, False, False, "backpack"),
        ("bedroll", 1, False, False, None), ("ink", 1, False, False, "pouch"),
        ("pouch", 1, False, False, None), ("parchment", 10, False, False, None),
        ("ring-of-protection", 1, True, True, None), ("cloak-of-protection", 1, True, True, None),
        ("potion-of-healing", 2, False, False, None)]],
    "currency": {"gp": 120, "sp": 30},
    "choices": {"scholar": "arcana"},  # SRD 5.2 wizard 2: Scholar (expertise)
}


def rate(label: str, work, seconds: float) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):  # warm-up
        work()
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            work()
        n += 100
    print(f"{label}: {n / elapsed:,.0f} characters/s (one core, {n} runs, "
          f"{elapsed:.1f} s, {1e6 * elapsed / n:.0f} us each)")


def main(seconds: float) -> None:
    rules = load_rules("2024")
    doc = CharacterDoc.model_validate(CHARACTER)
    report = validate(doc, rules)
    assert report.valid, report.errors
    assert not report.warnings, report.warnings

    def checked() -> None:
        validate(doc, rules)
        derive(doc, rules)

    def parsed_and_checked() -> None:  # what an API request does with a JSON document
        d = CharacterDoc.model_validate(CHARACTER)
        validate(d, rules)
        derive(d, rules)

    rate("validate+derive", checked, seconds)
    rate("parse+validate+derive", parsed_and_checked, seconds)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
