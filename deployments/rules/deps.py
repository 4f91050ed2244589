from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from deployments.common.runner import ServiceRunner
from domain.homebrew.service import HomebrewService


def _homebrew(request: Request) -> ServiceRunner[HomebrewService]:
    return request.app.state.homebrew


Homebrew = Annotated[ServiceRunner[HomebrewService], Depends(_homebrew)]
