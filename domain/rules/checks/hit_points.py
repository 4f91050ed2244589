"""Checks of maximum hit points against the hit dice and Constitution."""

from __future__ import annotations

from domain.rules import constants as C
from domain.rules.checks.context import Context


def hit_point_range(c: Context) -> tuple[int, int] | None:
    if not c.classes or len(c.classes) != len(c.doc.classes):
        return None
    con = c.mods["con"]
    lo = hi = c.grants.hp  # dwarven toughness, draconic resilience...
    first = True
    for _, _, level, rec in c.classes:
        die = rec["hit_die"]
        for _ in range(max(0, min(level, C.MAX_LEVEL))):
            if first:  # the first character level: hit die maximum
                lo += max(1, die + con)
                hi += max(1, die + con)
                first = False
            else:
                lo += max(1, 1 + con)
                hi += max(1, die + con)
    return lo, hi


def check_hit_points(c: Context) -> None:
    if c.doc.hit_points is None:
        return
    rng = hit_point_range(c)
    if rng is None:
        return
    lo, hi = rng
    hp = c.doc.hit_points
    if not lo <= hp <= hi:
        extra = "".join(f", {label} +{v}" for label, v in c.grants.hp_sources)
        c.err("hit_points_invalid", "hit_points",
              f"Maximum HP {hp} is outside what the hit dice and Con{extra} allow "
              f"({lo}..{hi}).",
              f"Set maximum HP between {lo} and {hi}.")
