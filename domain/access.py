"""Who may see an application and its photos: its owner, and reviewers whose jurisdiction (a
county, a prefecture or the province) covers the application's 属地. Nobody else — not even an
administrator (separation of duties)."""
from models import Account, Application, Role


def can_view(account: Account, application: Application) -> bool:
    if account is None or not account.is_authenticated:
        return False
    if application.account_id == account.id:
        return True
    if account.role != Role.REVIEWER or account.region is None:
        return False
    return account.region.covers(application.jurisdiction_code)
