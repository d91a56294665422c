import io
import re
import socket
import time
import zipfile
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from docx import Document
from pypdf import PdfReader

from zhili.core import documents
from zhili.core.documents import (
    MEDIATION_AGREEMENT_FIELDS,
    DocumentError,
    docx_text,
    pdf_text,
    render_docx,
    render_pdf,
    validate_docx_template,
)

AGREEMENT_DOCX = Path(documents.__file__).resolve().parent.parent / "disputes" / \
    "agreement_template.docx"
AGREEMENT_HTML = "documents/mediation_agreement.html"
HOSTILE = "<script>&"

STATUTORY = [
    "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效。",
    "本协议一式三份，当事人各执一份，人民调解委员会留存一份。",
    "当事人认为有必要的，可以自本协议生效之日起三十日内共同向人民法院申请司法确认。",
]


def agreement_context() -> dict:
    return {
        "number": "通州医调〔2026〕第15号",
        "body_name": "南通市通州区医疗纠纷人民调解委员会",
        "case_number": "TZ-YT-2026-0015",
        "parties": [
            {"side": "申请人", "name": "张三", "kind": "person", "sex": "男", "ethnicity": "汉族",
             "birth_date": "1968年5月12日", "id_type": "居民身份证",
             "id_number": "320612196805120011", "address": "南通市通州区金沙街道东市社区3组18号",
             "contact": "13912345678", "representative": "张小三"},
            {"side": "被申请人", "name": "南通市通州区某某医院", "kind": "org", "sex": "",
             "ethnicity": "", "birth_date": "", "id_type": "统一社会信用代码",
             "id_number": "12320612466900001X", "address": "南通市通州区新金路88号",
             "contact": "0513-86001234", "representative": "王五"},
        ],
        "facts": "2026年1月5日，张三因腹痛到某某医院就诊，次日行阑尾切除术，术后切口感染，"
                 "住院治疗21天。",
        # Short lines, so a kept line break cannot be mistaken for wrapping.
        "issues": "医疗费是否应予赔偿；\r\n误工费的计算标准。",
        "responsibilities": f"某某医院换药记录不全（病历中录有“{HOSTILE}”字样），负次要责任。",
        "terms": ["某某医院一次性补偿张三各项费用共计人民币贰万元整。",
                  "张三收到上述款项后，不再就本次纠纷主张任何权利。",
                  "本协议履行完毕后，双方就本纠纷再无其他争议。"],
        "performance": {"method": "银行转账", "place": "某某医院财务科",
                        "deadline": "2026年3月31日前一次性付清"},
        "mediators": ["李调解", "赵调解"],
        "place": "通州区医疗纠纷人民调解委员会调解室",
        "signed_on": "2026年3月14日",
        "copies": 3,
    }


def docx_with(*paragraphs: str) -> bytes:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def assert_complete_agreement(text: str) -> None:
    # The PDF wraps lines wherever the page is full and puts a space between table cells.
    flat = re.sub(r"\s", "", text)
    for expected in [
        "人民调解协议书", "通州医调〔2026〕第15号", "案件编号：TZ-YT-2026-0015",
        "申请人：张三，男，汉族，1968年5月12日出生，居民身份证：320612196805120011",
        "代理人：张小三。",
        "被申请人：南通市通州区某某医院，住所地：南通市通州区新金路88号，"
        "统一社会信用代码：12320612466900001X，法定代表人（负责人）：王五",
        "纠纷的主要事实", "住院治疗21天", "争议事项", "各方当事人的责任",
        "一、某某医院一次性补偿张三各项费用共计人民币贰万元整。",
        "二、张三收到上述款项后", "三、本协议履行完毕后",
        "履行方式：银行转账", "履行地点：某某医院财务科", "履行期限：2026年3月31日前一次性付清",
        *STATUTORY,
        "调解地点：通州区医疗纠纷人民调解委员会调解室",
        "申请人：张三（签名、盖章或者按指印）",
        "被申请人：南通市通州区某某医院（签名、盖章或者按指印）",
        "人民调解员：李调解（签名）", "人民调解员：赵调解（签名）",
        "南通市通州区医疗纠纷人民调解委员会（盖章）", "2026年3月14日",
    ]:
        assert expected in flat, expected
    assert f"“{HOSTILE}”" in flat  # escaped for the XML/HTML, printed literally
    assert "&lt;" not in flat and "&amp;" not in flat
    assert "医疗费是否应予赔偿；\n误工费的计算标准。" in text  # the line break is kept


def test_word_agreement_has_every_required_part():
    text = docx_text(render_docx(AGREEMENT_DOCX, agreement_context()))
    assert_complete_agreement(text)
    assert "{{" not in text and "{%" not in text


def test_word_agreement_from_bytes_and_str_path_alike():
    context = agreement_context()
    from_bytes = docx_text(render_docx(AGREEMENT_DOCX.read_bytes(), context))
    assert from_bytes == docx_text(render_docx(str(AGREEMENT_DOCX), context))


def test_pdf_agreement_has_every_required_part():
    html = render_to_string(AGREEMENT_HTML, agreement_context())
    data = render_pdf(html)
    assert data.startswith(b"%PDF-")
    assert_complete_agreement(pdf_text(data))


def test_control_characters_pasted_into_text_do_not_break_the_word_file():
    context = agreement_context()
    context["facts"] = "张三\x0b就诊\x00。\ud800"
    assert "张三就诊。" in docx_text(render_docx(AGREEMENT_DOCX, context))


def test_a_person_without_optional_fields_leaves_no_empty_commas():
    context = agreement_context()
    context["parties"][0].update(sex="", ethnicity="", birth_date="", id_number="",
                                 representative="")
    text = docx_text(render_docx(AGREEMENT_DOCX, context))
    assert "申请人：张三，住址：南通市通州区金沙街道东市社区3组18号，联系方式：13912345678。" \
        in text
    assert "代理人" not in text


def test_the_default_template_passes_validation():
    assert validate_docx_template(AGREEMENT_DOCX.read_bytes(), MEDIATION_AGREEMENT_FIELDS) == []


def test_cn_numeral():
    assert [documents.cn_numeral(n) for n in (1, 3, 10, 11, 20, 21, 99, 100, 0)] == [
        "一", "三", "十", "十一", "二十", "二十一", "九十九", "100", "0"]


# --- broken templates -------------------------------------------------------------------------


@pytest.mark.parametrize("template", [
    docx_with("{% if %}"),                     # Jinja syntax error
    docx_with("{{ number|no_such_filter }}"),  # unknown filter
    b"PK\x03\x04 not really a zip",            # not a docx
    b"\x00\x01 random bytes",
    "no/such/template.docx",                   # missing file
])
def test_a_broken_template_raises_document_error(template):
    with pytest.raises(DocumentError) as caught:
        render_docx(template, agreement_context())
    assert "template" in str(caught.value)


def test_the_sandbox_keeps_templates_away_from_python_internals():
    template = docx_with("{{ number.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(DocumentError):
        render_docx(template, agreement_context())


def test_validation_reports_random_bytes():
    assert validate_docx_template(b"\x89PNG random bytes", {"number"}) == [
        "The file is not a Word .docx document."]


def test_validation_reports_a_zip_that_is_not_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    [problem] = validate_docx_template(buffer.getvalue(), {"number"})
    assert "not a Word .docx" in problem


def test_validation_reports_a_syntax_error_and_where_it_is():
    data = docx_with("人民调解协议书", "{{ number }}", "{% if %}申请人情况")
    [problem] = validate_docx_template(data, MEDIATION_AGREEMENT_FIELDS)
    assert problem.startswith("Template syntax error near “{% if %}申请人情况”")


def test_validation_reports_unknown_variables():
    data = docx_with("{{ number }} {{ unknown_var }}",
                     "{% for party in parties %}{{ party.name }}{% endfor %}")
    [problem] = validate_docx_template(data, MEDIATION_AGREEMENT_FIELDS)
    assert "unknown fields: unknown_var." in problem
    assert "party" not in problem.split(".")[0]  # loop variables are declared by the template


def test_validation_reports_unknown_filters():
    [problem] = validate_docx_template(docx_with("{{ number|shout }}"), {"number"})
    assert "shout" in problem


def test_validation_refuses_a_zip_bomb(monkeypatch):
    monkeypatch.setattr(documents, "MAX_DOCX_INFLATED", 1000)
    [problem] = validate_docx_template(AGREEMENT_DOCX.read_bytes(), MEDIATION_AGREEMENT_FIELDS)
    assert "too large" in problem


# --- PDF resources: never the network -----------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def images_in(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def test_a_remote_image_is_not_fetched(no_network):
    started = time.monotonic()
    data = render_pdf('<p>张三</p><img src="http://203.0.113.1/x.png">'
                      '<link rel="stylesheet" href="https://203.0.113.1/a.css">')
    assert time.monotonic() - started < 5
    assert no_network == []
    assert "张三" in pdf_text(data)
    assert images_in(data) == 0


def test_static_and_data_images_are_embedded(no_network):
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42"
             "mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
    data = render_pdf(f'<img src="/static/zhili/icon-192.png"><img src="{pixel}">')
    assert images_in(data) == 2
    assert no_network == []


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "/static/../../../../etc/passwd",
    "file:///static/%2e%2e/%2e%2e/etc/passwd",
    "ftp://203.0.113.1/static/zhili/icon-192.png",
    "http://203.0.113.1/x.png",
])
def test_only_static_files_are_local_resources(url):
    assert documents.local_static_file("file://" + url if url.startswith("/") else url) is None


def test_a_static_url_maps_to_the_local_file_whatever_the_host():
    path = documents.local_static_file("http://intranet.example/static/zhili/icon-192.png")
    assert path is not None and path.name == "icon-192.png"


def test_pdf_is_available_here():
    # The CI machine installs pango (.ci/run); without it callers get a clear DocumentError.
    assert documents.pdf_available()


def test_without_pango_the_caller_gets_a_clear_message(monkeypatch):
    monkeypatch.setattr(documents, "pdf_available", lambda: False)
    with pytest.raises(DocumentError, match="pango"):
        render_pdf("<p>x</p>")


def test_making_a_pdf_leaves_truncated_uploads_refused():
    """WeasyPrint switches Pillow to accept truncated images when imported; photos checked
    afterwards in the same process must still be refused when incomplete."""
    from PIL import ImageFile

    documents.render_pdf("<p>x</p>")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
