import gettext
import re
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def unquote(block: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block)).replace('\\"', '"').replace("\\n", "\n")


def test_every_interface_text_has_a_vietnamese_translation_in_the_compiled_catalog():
    text = PO.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    entries = [(unquote(i), unquote(s)) for i, s in re.findall(r'msgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)', text)][1:]
    assert [msgid for msgid, msgstr in entries if not msgstr] == []
    with PO.with_suffix(".mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    assert [msgid for msgid, msgstr in entries if catalog.gettext(msgid) != msgstr] == []
