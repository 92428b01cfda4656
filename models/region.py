import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db


class RegionLevel(enum.StrEnum):
    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"


class Region(db.Model):
    """An administrative division of Yunnan (GB/T 2260) and the finance bureau that serves it."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    level: Mapped[str] = mapped_column(sa.String(12))
    parent_code: Mapped[str | None] = mapped_column(
        sa.String(6), sa.ForeignKey("regions.code"), index=True
    )
    bureau_name: Mapped[str] = mapped_column(sa.String(60))

    def covers(self, code: str | None) -> bool:
        """Whether the county `code` lies inside this region."""
        if not code:
            return False
        if self.level == RegionLevel.PROVINCE:
            return code[:2] == self.code[:2]
        if self.level == RegionLevel.PREFECTURE:
            return code[:4] == self.code[:4]
        return code == self.code
