"""Characters that still name deleted homebrew. The rules engine only sees a slug it does not
know; this says that the entry was deleted and what to do about it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.sheet import CharacterDoc, Issue, ValidationReport


def flag_deleted(
    report: ValidationReport, doc: CharacterDoc, deleted: Mapping[str, str]
) -> ValidationReport:
    """The report with each unknown reference to a deleted entry (slug -> kind) turned into
    a `homebrew_deleted` error at the same path."""
    if not deleted or not report.errors:
        return report
    data = doc.dump()
    errors = []
    for issue in report.errors:
        slug = _at(data, issue.path) if issue.code == "unknown_reference" else None
        if isinstance(slug, str) and slug in deleted:
            kind = deleted[slug]
            issue = Issue(
                code="homebrew_deleted",
                path=issue.path,
                message=f"The homebrew {kind} {slug!r} was deleted from the {doc.ruleset} rules.",
                fix=f"Choose another {kind} from the {doc.ruleset} rules catalog, or ask an "
                f"admin to register {slug!r} again.",
            )
        errors.append(issue)
    return report.model_copy(update={"errors": errors})


def _at(data: Any, path: str) -> Any:
    """The value at a dotted path of the dumped document ("classes.1.subclass")."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data
