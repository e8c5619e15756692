"""The report fonts: Source Sans Pro (from the `font-source-sans-pro` package), embedded, and NFC text.

Reportlab's built-in fonts cannot draw Vietnamese (ẫ, ữ, Đ, ơ ...), so every report embeds a
TrueType font that covers it. The font ships in a PyPI wheel, never a file expected on the
system. Text is normalised to NFC before it reaches reportlab: decomposed input (a base letter
plus combining marks) would otherwise be drawn as separate, misplaced glyphs.
"""
import os
import unicodedata

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR, BOLD, ITALIC = "LangsoSans", "LangsoSans-Bold", "LangsoSans-Italic"
FILES = {REGULAR: "SourceSansPro-Regular.ttf", BOLD: "SourceSansPro-Bold.ttf",
         ITALIC: "SourceSansPro-It.ttf"}
VIETNAMESE = ("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúýĂăĐđĨĩŨũƠơƯưẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệ"
              "ỈỉỊịỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹ")


def font_directory():
    """Where the font package keeps its .ttf files."""
    import font_source_sans_pro
    return font_source_sans_pro.font_directory


def register():
    """Register the report fonts with reportlab once (idempotent); returns the regular font's name."""
    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return REGULAR
    directory = font_directory()
    for name, filename in FILES.items():
        pdfmetrics.registerFont(TTFont(name, os.path.join(directory, filename)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD)
    return REGULAR


def nfc(text):
    """Unicode NFC of any value shown in a report (None becomes "")."""
    return unicodedata.normalize("NFC", "" if text is None else str(text))


def missing_glyphs(text, font_name=REGULAR):
    """The characters of `text` (after NFC) that the font cannot draw, in order of first use."""
    register()
    cmap = pdfmetrics.getFont(font_name).face.charToGlyph
    seen = []
    for char in nfc(text):
        if char.isprintable() and ord(char) not in cmap and char not in seen and char != " ":
            seen.append(char)
    return seen
