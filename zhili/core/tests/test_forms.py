from django import forms
from django.test.html import parse_html

from zhili.core.forms import FastSelect


def _normalise(html: str):
    return parse_html(html)  # compares elements and attributes, not their order


class Sample(forms.Form):
    plain = forms.ChoiceField(choices=[("", "—"), ("a", "A & <b>"), ("b", "B")],
                              required=False)
    grouped = forms.ChoiceField(choices=[("x", "X"), ("组", [("1", "一"), ("2", "二\"")])])


def test_fast_select_writes_what_django_writes():
    for data in ({}, {"plain": "a", "grouped": "2"}, {"plain": "zz", "grouped": "x"}):
        form = Sample(data or None)
        for name in ("plain", "grouped"):
            field = form.fields[name]
            expected = _normalise(str(form[name]))
            field.widget = FastSelect(choices=field.choices)
            assert _normalise(str(form[name])) == expected, (name, data)
            field.widget = forms.Select(choices=field.choices)


def test_fast_select_escapes_labels_and_values():
    html = FastSelect(choices=[("<v>", "<script>")]).render("n", "<v>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'value="&lt;v&gt;" selected' in html


def test_the_mixin_swaps_plain_selects_only():
    from zhili.core.forms import FastSelectsMixin

    class Filters(FastSelectsMixin, Sample):
        when = forms.DateField(required=False)

    form = Filters({"plain": "a", "grouped": "1"})
    assert isinstance(form.fields["plain"].widget, FastSelect)
    assert not isinstance(form.fields["when"].widget, FastSelect)
    assert 'value="a" selected' in str(form["plain"])


def test_id_url_writes_what_reverse_writes():
    from django.urls import reverse

    from zhili.core.views import id_url

    for name in ("events:detail", "delivery:outlet_supervision", "delivery:order_issue"):
        link = id_url(name)
        for pk in (1, 42, 987654321, 1234567890123):
            assert link(pk) == reverse(name, args=[pk])
