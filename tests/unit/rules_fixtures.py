"""Valid base characters, one per ruleset, for the rules tests to mutate."""

from __future__ import annotations

import copy
from typing import Any

from domain.characters.examples import EXAMPLE_2014, EXAMPLE_2024
from domain.sheet import CharacterDoc


def base_2014() -> dict[str, Any]:
    """A hill-dwarf fighter 3 (champion), acolyte, standard array."""
    return copy.deepcopy(EXAMPLE_2014)


def base_2024() -> dict[str, Any]:
    """A human wizard 3 (evoker), sage, standard array."""
    return copy.deepcopy(EXAMPLE_2024)


BASES = {"2014": base_2014, "2024": base_2024}


def doc(data: dict[str, Any]) -> CharacterDoc:
    return CharacterDoc.model_validate(data)
