"""Generating Word (.docx) and PDF documents: mediation agreements, rectification orders.

Word documents come from a .docx template filled by docxtpl (Jinja inside the document);
PDFs from HTML rendered by WeasyPrint. Both are made on the server, which runs on a
government intranet, so:

* Templates may be uploaded by a mediation committee, so they are semi-trusted: Jinja runs in
  its sandbox (no attribute walks to Python internals) with autoescaping on, so `<` or `&` in
  a party's name is text, never broken XML. `validate_docx_template()` tells the uploader what
  is wrong before the template is stored.
* WeasyPrint never touches the network: its URL fetcher serves `data:` URLs and the project's
  own static files and refuses everything else, so a remote `<img>` is dropped at once rather
  than waiting for a connection that will never succeed.
* Failures become `DocumentError`, whose text is a message for the user.

Template filter (docx): `cn_numeral` turns 1..99 into 一 … 九十九 (`{{ loop.index|cn_numeral }}`).

The mediation agreement (人民调解协议书; 《人民调解法》第二十九条, 《人民调解工作若干规定》
第三十五条) has a default Word template at zhili/disputes/agreement_template.docx and an HTML
one for the PDF at templates/documents/mediation_agreement.html (render it with
`render_to_string`, then `render_pdf`). Both take this context (MEDIATION_AGREEMENT_FIELDS):

    number            协议书编号, e.g. "通州医调〔2026〕第15号"
    body_name         name of the 人民调解委员会
    case_number       dispute case number
    parties           list of {side: "申请人" | "被申请人" | "第三人", name,
                      kind: "person" | "org", sex, ethnicity, birth_date (str), id_type,
                      id_number, address, contact, representative}; empty fields are left out
    facts             纠纷的主要事实 (multi-line text)
    issues            争议事项 (multi-line text)
    responsibilities  各方当事人的责任 (multi-line text)
    terms             list of str: 达成调解协议的内容, numbered 一、二、三 by the template
    performance       {method, place, deadline (str)}: 履行协议的方式、地点、期限
    mediators         list of names (人民调解员)
    place             调解地点
    signed_on         date string (年月日)
    copies            int: number of copies (当事人各执一份, 调解委员会留存一份)

A line break in the text starts a new paragraph in both formats, as pressing Enter does in
Word, so every line gets the paragraph's first-line indent.
"""

from __future__ import annotations

import functools
import io
import logging
import mimetypes
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils.translation import gettext as _
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

logger = logging.getLogger(__name__)
# WeasyPrint logs each rendering step at INFO: seven lines per document is noise in our logs.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

MEDIATION_AGREEMENT_FIELDS = frozenset({
    "number", "body_name", "case_number", "parties", "facts", "issues", "responsibilities",
    "terms", "performance", "mediators", "place", "signed_on", "copies",
})

# A .docx is a zip; python-docx inflates every part into memory, so a small upload that
# expands to gigabytes must be refused before it is opened.
MAX_DOCX_INFLATED = 64 * 1024 * 1024

# Used by the PDF when the HTML names no font: the Noto CJK fonts of Debian's fonts-noto-cjk.
# Passed as a user stylesheet, so the document's own CSS overrides it.
PDF_BASE_CSS = """
html { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; }
"""

# Characters XML 1.0 forbids; one pasted from another program would make the .docx unreadable.
# Tab stays: docxtpl turns it into a Word tab.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_CN_DIGITS = "零一二三四五六七八九"


class DocumentError(ValueError):
    """A document cannot be generated; str(exc) is a message for the user."""


def cn_numeral(value) -> str:
    """1 → 一, 10 → 十, 21 → 二十一 (up to 99; other numbers stay as digits)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return str(value)
    if not 0 < n < 100:
        return str(n)
    tens, units = divmod(n, 10)
    text = ("" if tens < 2 else _CN_DIGITS[tens]) + ("十" if tens else "")
    return text + (_CN_DIGITS[units] if units else "")


def _jinja_env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(autoescape=True)
    env.filters["cn_numeral"] = cn_numeral
    return env


# ---------------------------------------------------------------------------------------------
# Word


def _clean(value):
    """The context with text made safe for WordprocessingML (see _XML_ILLEGAL), each line break
    turned into "\a", which docxtpl renders as a new paragraph with the same formatting."""
    if isinstance(value, str):
        text = _XML_ILLEGAL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
        return text.replace("\n", "\a")
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def _inflated_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(info.file_size for info in archive.infolist())


def _open_template(template: bytes | str | Path):
    from docxtpl import DocxTemplate

    try:
        if isinstance(template, bytes):
            if _inflated_size(template) > MAX_DOCX_INFLATED:
                raise DocumentError(_("The Word template is too large once unpacked."))
            source = io.BytesIO(template)
        elif not Path(template).is_file():
            raise DocumentError(_("The document template %(name)s is missing.")
                                % {"name": Path(template).name})
        else:
            source = str(template)
        tpl = DocxTemplate(source)
        tpl.init_docx()
    except DocumentError:
        raise
    except Exception as exc:
        # python-docx raises whatever its zip and XML layers raise (BadZipFile, KeyError,
        # ValueError, lxml errors, PackageNotFoundError); they all mean the same to the user.
        logger.warning("docx template unreadable: %s: %s", type(exc).__name__, exc)
        raise DocumentError(_("The document template cannot be opened: it is not a Word .docx "
                              "file.")) from exc
    return tpl


def render_docx(template: bytes | str | Path, context: dict) -> bytes:
    """Fill a .docx template (its bytes or its path) with `context`; the result's bytes."""
    tpl = _open_template(template)
    try:
        tpl.render(_clean(context), jinja_env=_jinja_env(), autoescape=True)
    except TemplateSyntaxError as exc:
        raise DocumentError(_("The document template has an error: %(error)s")
                            % {"error": exc.message}) from exc
    except Exception as exc:
        # An uploaded template's expressions can raise anything (a sandbox refusal, a type
        # error in `{{ a + b }}`); log it for the administrator, tell the user plainly.
        logger.warning("docx template failed to render", exc_info=True)
        raise DocumentError(_("The document template could not be filled in: %(error)s")
                            % {"error": exc}) from exc
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def _template_sources(tpl) -> Iterable[str]:
    """The Jinja source of the body, headers and footers, one paragraph a line (as docxtpl
    renders them), so a syntax error's line number points at a paragraph."""
    parts = [tpl.patch_xml(tpl.get_xml())]
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        parts += [tpl.patch_xml(tpl.get_part_xml(part)) for _key, part in
                  tpl.get_headers_footers(uri)]
    return [re.sub(r"<w:p([ >])", r"\n<w:p\1", xml) for xml in parts]


def _paragraph_text(source: str, lineno: int | None) -> str:
    lines = source.splitlines()
    if not lineno or lineno > len(lines):
        return ""
    return re.sub(r"<[^>]+>", "", lines[lineno - 1]).strip()[:80]


def validate_docx_template(data: bytes, allowed: Iterable[str]) -> list[str]:
    """Problems with an uploaded .docx template, as messages for the uploader ([] if none).

    `allowed` are the variables the caller will supply (e.g. MEDIATION_AGREEMENT_FIELDS);
    any other variable would print as nothing, so it is reported as a likely typo.
    """
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return [_("The file is not a Word .docx document.")]
    try:
        tpl = _open_template(data)
    except DocumentError as exc:
        return [str(exc)]
    env = _jinja_env()
    for source in _template_sources(tpl):
        try:
            env.compile(source)  # parses and checks that every filter and test exists
        except TemplateSyntaxError as exc:
            near = _paragraph_text(source, exc.lineno)
            if near:
                return [_("Template syntax error near “%(text)s”: %(error)s")
                        % {"text": near, "error": exc.message}]
            return [_("Template syntax error: %(error)s") % {"error": exc.message}]
    try:
        used = tpl.get_undeclared_template_variables(jinja_env=env)
    except TemplateSyntaxError as exc:  # already caught above; kept for docxtpl changes
        return [_("Template syntax error: %(error)s") % {"error": exc.message}]
    unknown = sorted(used - set(allowed))
    if unknown:
        return [_("The template uses unknown fields: %(names)s. Available fields: %(allowed)s.")
                % {"names": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}]
    return []


# ---------------------------------------------------------------------------------------------
# PDF


@functools.cache
def pdf_available() -> bool:
    """Whether WeasyPrint and its native libraries (pango, harfbuzz) load on this machine."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        logger.warning("PDF generation unavailable: %s", exc)
        return False
    finally:
        # WeasyPrint turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported; our
        # documents embed no images, and uploaded photos must keep failing when truncated.
        from PIL import ImageFile

        ImageFile.LOAD_TRUNCATED_IMAGES = False
    return True


def _static_prefix() -> str:
    path = urlsplit(settings.STATIC_URL).path
    return path if path.startswith("/") else "/" + path


def _static_roots() -> list[Path]:
    roots = [Path(settings.STATIC_ROOT)] if settings.STATIC_ROOT else []
    return roots + [Path(d[1] if isinstance(d, tuple | list) else d)
                    for d in settings.STATICFILES_DIRS]


def _app_static_roots() -> list[Path]:
    from django.apps import apps

    return [Path(config.path) / "static" for config in apps.get_app_configs()]


def local_static_file(url: str) -> Path | None:
    """The local file behind a URL a PDF may load, or None if it must not be loaded.

    Allowed: any URL whose path is under STATIC_URL (what `{% static %}` writes), looked up
    in STATIC_ROOT and then the static finders whatever the host; and file: URLs inside the
    static directories. Nothing is ever fetched from the network.
    """
    from django.contrib.staticfiles import finders

    parts = urlsplit(url)
    if parts.scheme not in ("file", "http", "https"):
        return None
    path = unquote(parts.path)
    prefix = _static_prefix()
    if path.startswith(prefix):
        name = path[len(prefix):]
        candidates = [Path(settings.STATIC_ROOT) / name] if settings.STATIC_ROOT else []
        try:
            found = finders.find(name)
        except SuspiciousFileOperation:
            return None
        candidates += [Path(found)] if isinstance(found, str) else []
    elif parts.scheme == "file" and parts.netloc in ("", "localhost"):
        candidates = [Path(url2pathname(path))]
    else:
        return None
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved.is_file() and any(resolved.is_relative_to(root.resolve())
                                      for root in _static_roots() + _app_static_roots()):
            return resolved
    return None


@functools.cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = local_static_file(url)
            if path is None:
                # WeasyPrint logs this and leaves the resource out of the document.
                raise ValueError(f"not a local static or data: URL: {url[:200]}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    return LocalOnlyFetcher


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Render an HTML document to PDF bytes (A4 unless its CSS says otherwise).

    Relative URLs resolve against `base_url` (by default the site root, so `/static/…`
    works); only data: URLs and the project's static files are ever loaded.
    """
    if not pdf_available():
        raise DocumentError(_("PDF documents cannot be generated on this server: the system "
                              "libraries for PDF (pango) are missing. Ask the administrator "
                              "to install them, or download the Word version."))
    import weasyprint

    fetcher = _fetcher_class()(allowed_protocols={"data"})
    try:
        document = weasyprint.HTML(string=html, base_url=base_url or "file:///",
                                   url_fetcher=fetcher)
        return document.write_pdf(stylesheets=[weasyprint.CSS(string=PDF_BASE_CSS)])
    except Exception as exc:
        logger.warning("PDF rendering failed", exc_info=True)
        raise DocumentError(_("The PDF could not be generated: %(error)s")
                            % {"error": exc}) from exc


# ---------------------------------------------------------------------------------------------
# Reading generated documents back (tests, checks)


def docx_text(data: bytes) -> str:
    """The text of a .docx: paragraphs and table cells in document order, one per line
    (a line break inside a paragraph stays a newline)."""
    from docx import Document
    from docx.table import Table

    def table_lines(table: Table) -> list[str]:
        lines, seen = [], set()
        for row in table.rows:
            for cell in row.cells:
                if cell._tc in seen:  # a merged cell appears once per grid column
                    continue
                seen.add(cell._tc)
                lines += [p.text for p in cell.paragraphs]
                for inner in cell.tables:
                    lines += table_lines(inner)
        return lines

    lines: list[str] = []
    for block in Document(io.BytesIO(data)).iter_inner_content():
        lines += table_lines(block) if isinstance(block, Table) else [block.text]
    return "\n".join(lines)


def pdf_text(data: bytes) -> str:
    """The extracted text of every page of a PDF (needs the dev dependency pypdf)."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def attachment(content: bytes, filename: str, content_type: str):
    """A download response for a generated document or a stored file: never cached (it may
    carry personal data in clear) and never sniffed into something the browser would run."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
