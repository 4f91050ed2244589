"""The prompt policy, applied before anything is generated: a denylist of terms grouped in
categories. A refusal is a 422 `prompt_refused` naming the category, never a silent change
of the prompt. Deployments add terms by config; the built-in list is deliberately short and
covers what a table-top campaign never needs an image of."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from domain.errors import DomainError

CATEGORIES: dict[str, tuple[str, ...]] = {
    "sexual": ("nude", "naked", "nsfw", "porn", "explicit sex", "topless", "hentai"),
    "minors_sexual": ("loli", "shota", "child porn"),
    "hate": ("swastika", "nazi propaganda", "white power", "kkk"),
    "gore_extreme": ("snuff", "real gore", "beheading video"),
    "real_people": ("deepfake",),
}


class PromptRefused(DomainError):
    code, status, title = "prompt_refused", 422, "Prompt refused by the content policy"


def _normalise(text: str) -> str:
    # Fold accents, case and punctuation so "N.u.d.e" or "NÜDE" do not slip through.
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " " + re.sub(r"[^a-z0-9]+", " ", folded).strip() + " "


class PromptPolicy:
    def __init__(self, extra: Mapping[str, list[str]] | None = None):
        merged = {k: list(v) for k, v in CATEGORIES.items()}
        for category, terms in (extra or {}).items():
            merged.setdefault(category, []).extend(terms)
        self._terms = [
            (category, _normalise(term)) for category, terms in merged.items() for term in terms
        ]

    def violation(self, *texts: str) -> str | None:
        """The first category any of `texts` falls in, or None."""
        for text in texts:
            norm = _normalise(text)
            squashed = norm.replace(" ", "")
            for category, term in self._terms:
                # Whole words, and the letters run together ("n u d e").
                if term in norm or (len(term) > 6 and term.replace(" ", "") in squashed):
                    return category
        return None

    def check(self, *texts: str) -> None:
        if category := self.violation(*texts):
            raise PromptRefused(
                f"The prompt falls under the content policy's {category!r} category; "
                "rephrase it without those terms.",
                category=category,
            )
