import pytest


@pytest.mark.django_db
def test_chinese_is_the_default_and_english_switchable(client, personas, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(personas["town_admin"].user)
    page = client.get("/areas/").content.decode()
    assert "区域树" in page and "Area tree" not in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Area tree" in client.get("/areas/").content.decode()


@pytest.mark.django_db
def test_an_english_browser_still_gets_chinese_until_the_user_switches(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in page.content.decode() and page["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_api_errors_are_translated(client, personas, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(personas["grid_worker"].user)
    body = client.get("/api/v1/accounts/users").json()
    assert body["code"] == "forbidden" and "岗位" in body["message"]


def _po_entries(text: str) -> dict[str, str]:
    """(msgctxt + "\x04" +) msgid → msgstr (msgstr[0] for plural entries) of a .po file."""
    import ast

    entries, key, current = {}, None, {}
    for line in text.splitlines() + [""]:
        if line.startswith(("msgctxt ", "msgid ", "msgid_plural ", "msgstr ", "msgstr[")):
            key, _, value = line.partition(" ")
            current[key] = ast.literal_eval(value)
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
        elif not line.strip():
            if current.get("msgid"):
                msgid = current["msgid"]
                if "msgctxt" in current:
                    msgid = f"{current['msgctxt']}\x04{msgid}"
                entries[msgid] = current.get("msgstr", current.get("msgstr[0]", ""))
            key, current = None, {}
    return entries


def test_catalogue_is_complete_and_the_compiled_file_matches_it():
    import gettext
    from pathlib import Path

    import zhili

    locale = Path(zhili.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"
    po = locale / "django.po"
    entries = _po_entries(po.read_text(encoding="utf-8"))
    assert "#, fuzzy" not in po.read_text(encoding="utf-8").split("msgid", 2)[2]
    untranslated = [k for k, v in entries.items() if not v]
    assert not untranslated, untranslated[:10]
    with (locale / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    def compiled_text(key):
        if "\x04" in key:
            context, msgid = key.split("\x04", 1)
            return compiled.pgettext(context, msgid)
        return compiled.gettext(key)

    stale = [k for k, v in entries.items() if "%(counter)" not in k and compiled_text(k) != v]
    assert not stale, f"django.mo is older than django.po: run make messages ({stale[:5]})"
