"""JSON numbers: 3.0 is the integer 3 (as JSON Schema counts it); true and "3" are not."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from domain.characters.examples import EXAMPLE_2024
from domain.sheet import CharacterDoc


def test_whole_floats_are_integers_even_when_nested():
    doc = copy.deepcopy(EXAMPLE_2024)
    doc["xp"] = 900.0
    doc["classes"][0]["level"] = 3.0
    parsed = CharacterDoc.model_validate(doc)
    assert parsed.xp == 900 and type(parsed.classes[0].level) is int


@pytest.mark.parametrize("value", [True, "3", 2.5])
def test_other_types_are_not_integers(value):
    doc = copy.deepcopy(EXAMPLE_2024)
    doc["classes"][0]["level"] = value
    with pytest.raises(ValidationError):
        CharacterDoc.model_validate(doc)
