"""Per-user preferences of the web app (the language), kept apart from the users table."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from stockwarden.store.base import Base


class UserPrefRow(Base):
    """One user's preferences: the language of the web app (``en`` or ``zh_CN``)."""

    __tablename__ = "user_prefs"

    username: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    language: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


__all__ = ["UserPrefRow"]
