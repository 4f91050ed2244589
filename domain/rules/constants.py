"""Rules tables that the SRD JSON files do not carry (numbers from SRD 5.1 / 5.2 text)."""

from __future__ import annotations

from typing import Final

# Minimum XP for levels 1..20 (index 0 = level 1). Multiclass characters use total level.
XP_THRESHOLDS: Final[tuple[int, ...]] = (
    0, 300, 900, 2700, 6500, 14000, 23000, 34000, 48000, 64000,
    85000, 100000, 120000, 140000, 165000, 195000, 225000, 265000, 305000, 355000,
)

POINT_BUY_BUDGET: Final = 27
POINT_BUY_COST: Final[dict[int, int]] = {8: 0, 9: 1, 10: 2, 11: 3, 12: 4, 13: 5, 14: 7, 15: 9}
STANDARD_ARRAY: Final[tuple[int, ...]] = (15, 14, 13, 12, 10, 8)

# Base score ranges per ability method (before any bonus).
BASE_SCORE_RANGE: Final[dict[str, tuple[int, int]]] = {
    "point_buy": (8, 15),
    "standard_array": (8, 15),
    "rolled": (3, 18),
    "manual": (1, 30),
}
FINAL_SCORE_RANGE: Final = (1, 20)
MAX_LEVEL: Final = 20
MAX_ATTUNED: Final = 3
COINS_PER_POUND: Final = 50

# Class levels that grant an Ability Score Improvement (or a feat in its place).
ASI_LEVELS: Final[tuple[int, ...]] = (4, 8, 12, 16, 19)
EXTRA_ASI_LEVELS: Final[dict[str, tuple[int, ...]]] = {"fighter": (6, 14), "rogue": (10,)}

# Carrying capacity: Str x multiplier lb.
SIZES: Final[tuple[str, ...]] = ("Tiny", "Small", "Medium", "Large", "Huge", "Gargantuan")
CARRY_MULTIPLIER: Final[dict[str, dict[str, float]]] = {
    # 2014: x15, doubled per size above Medium, halved for Tiny.
    "2014": {"Tiny": 7.5, "Small": 15, "Medium": 15, "Large": 30, "Huge": 60,
             "Gargantuan": 120},
    "2024": {"Tiny": 7.5, "Small": 15, "Medium": 15, "Large": 30, "Huge": 60,
             "Gargantuan": 120},
}

# Container capacities in lb (SRD "Container Capacity" table and magic-item text).
CONTAINER_CAPACITY_LB: Final[dict[str, float]] = {
    "backpack": 30,
    "basket": 40,
    "chest": 300,
    "pouch": 6,
    "component-pouch": 6,
    "sack": 30,
    "bag-of-holding": 500,
    "handy-haversack": 120,  # two 20 lb side pouches + an 80 lb central pouch
}
# Containers whose capacity the SRD gives only in volume or count (no pound limit to check).
CONTAINERS_WITHOUT_WEIGHT_LIMIT: Final[frozenset[str]] = frozenset({
    "barrel", "bucket", "quiver", "case-crossbow-bolt", "case-map-or-scroll", "portable-hole",
    "bottle-glass", "flask", "flask-or-tankard", "jug", "jug-or-pitcher", "pot-iron", "vial",
    "waterskin",
})
# Extradimensional containers: their contents do not add to the carrier's load.
EXTRADIMENSIONAL: Final[frozenset[str]] = frozenset(
    {"bag-of-holding", "handy-haversack", "portable-hole"}
)
