"""Reading PDF reports back as text, for the PDF rendering and PDF API tests."""
import io
import re
import unicodedata

from pypdf import PdfReader


def pages_text(pdf):
    """Each page's extracted text."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def squash(value):
    """Text without any whitespace (table cells wrap words across lines)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", value))
