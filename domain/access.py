"""Who may see an application and its photos: its owner, and reviewers whose jurisdiction (a
county, a prefecture or the province) covers the application's 属地. Nobody else — not even an
administrator (separation of duties).

Said twice, side by side, so the two can be read against each other: `can_view` for one
application in hand, `scope` as the SQL condition every reviewer list, count and export uses."""

from models import Account, Application, Region, RegionLevel, Role


def can_view(account: Account, application: Application) -> bool:
    if account is None or not account.is_authenticated:
        return False
    if application.account_id == account.id:
        return True
    if account.role != Role.REVIEWER or account.region is None:
        return False
    return account.region.covers(application.jurisdiction_code)


def scope(region: Region):
    """The applications a reviewer of `region` may see (Region.covers, as SQL)."""
    return covered_by(region, Application)


def covered_by(region: Region, model):
    """Region.covers as SQL, for any table that keeps a 属地 (`jurisdiction_code`, the county)
    and its `prefecture_code`: applications, rights requests, account appeals."""
    if region.level == RegionLevel.PROVINCE:
        # Every jurisdiction is a county of Yunnan; the province sees them all.
        return model.jurisdiction_code.is_not(None)
    if region.level == RegionLevel.PREFECTURE:
        return model.prefecture_code == region.code
    return model.jurisdiction_code == region.code
