"""SMS text costs: GSM-7 fits 160 characters in one segment (153 per part of a
longer message), UCS-2 only 70 (67). Vietnamese with its diacritics needs UCS-2,
so by default the text loses its diacritics and goes as GSM-7."""

import unicodedata

# The GSM 03.38 basic set, and the extension set whose characters count twice.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€")


def strip_diacritics(text: str) -> str:
    """'Trạm Y tế xã Phúc Thuận' -> 'Tram Y te xa Phuc Thuan' (đ has no decomposition)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def is_gsm7(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def segments(text: str) -> tuple[str, int]:
    """(encoding, number of segments) the network will bill for this text."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        # UCS-2 counts UTF-16 code units: characters beyond the BMP take two.
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    if units <= single:
        return encoding, 1
    return encoding, -(-units // part)


def prepare(text: str, *, unicode: bool) -> str:
    """The text as it will be sent: with diacritics only when the setting allows."""
    text = " ".join(text.split())
    return text if unicode else strip_diacritics(text)
