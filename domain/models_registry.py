"""Imports every domain's models so that `metadata` knows all tables (for migrations)."""

from domain.assets import models as _assets  # noqa: F401
from domain.campaigns import models as _campaigns  # noqa: F401
from domain.character_sync import models as _character_sync  # noqa: F401
from domain.characters import models as _characters  # noqa: F401
from domain.db import Base
from domain.events import models as _events  # noqa: F401
from domain.generation import models as _generation  # noqa: F401
from domain.homebrew import models as _homebrew  # noqa: F401
from domain.images import models as _images  # noqa: F401
from domain.users import models as _users  # noqa: F401

metadata = Base.metadata
