"""How sensitive values are shown: the one place that decides, for the reviewer's list, the
detail page, the summary and the export. A value is sensitive by its kind, never by its label."""
from domain.id_numbers import mask as mask_id
from domain.phones import mask as mask_phone

ID_NUMBER = "id_number"
PHONE = "phone"
MASKS = {ID_NUMBER: mask_id, PHONE: mask_phone}


def shown(value: str | None, sensitive: str | None, revealed: bool = False) -> str:
    """The value as this reader may see it: masked unless it is not sensitive or revealed."""
    if sensitive is None or revealed:
        return value or ""
    return MASKS[sensitive](value)
