"""Masking of personal data for display (DESIGN §5: masked by default)."""


def mask_phone(phone: str | None) -> str:
    """138****5678 for a mobile number; other numbers keep their first and last few digits."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return f"{digits[0]}{'*' * (len(digits) - 2)}{digits[-1]}"
    return "*" * len(digits)


def mask_name(name: str | None) -> str:
    """张*明 / 李* — the surname and, for longer names, the last character stay."""
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"
