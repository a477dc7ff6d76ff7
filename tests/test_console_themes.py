"""The console's Themes page through its real routes: admins only; the service's own themes as
a form; a preview that checks the form as saving would (errors at their fields) and shows what
each theme matches among the service's latest comments and typed samples, saving nothing; a
save that is a run-time setting (audited, in the settings' history, undone by restore) and
tags the comments received after it. Real Redis and SQLite."""

from __future__ import annotations

import re

from bot.core.themes import tag

from .conftest import Bot
from .forms import fields_of
from .records import response_record
from .test_console import Browser

PATH = "/admin/services/benefits-application/themes"


async def admin(console: Bot) -> tuple[Browser, list[tuple[str, str]]]:
    browser = Browser(console)
    await browser.sign_in("admin-token")
    html = await (await browser.get(PATH)).text()
    return browser, fields_of(html, 'class="settings"')


def with_(form: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    """The form as shown, with fields changed (names with dots given with __ for .)."""
    given = {k.replace("__", "."): v for k, v in changes.items()}
    return [(k, given.pop(k) if k in given else v) for k, v in form] + list(given.items())


PARKING = {"themes__2__id": "parking", "themes__2__label__en": "Parking",
           "themes__2__label__es": "Estacionamiento",
           "themes__2__phrases__en": "parking\nparking lot",
           "themes__2__phrases__es": "estacionamiento"}  # fmt: skip


async def test_the_page_is_for_admins_and_shows_the_services_own_themes(console: Bot) -> None:
    viewer = Browser(console)
    await viewer.sign_in("viewer-token")
    assert (await viewer.get(PATH)).status == 403
    service = await (await viewer.get("/admin/services/benefits-application")).text()
    assert "/themes" not in service  # not offered to a viewer
    browser, form = await admin(console)
    assert ("themes.0.id", "housing") in form and ("default_themes", "on") in form
    assert ("themes.0.phrases.en", "rent\nlandlord\nevict*\nsection 8\nhousing\nshelter") in form
    assert ("themes.1.id", "") in form and ("themes.2.id", "") in form  # two blank rows
    assert (await browser.get("/admin/services/nowhere/themes")).status == 404
    page = await (await browser.get("/admin/services/benefits-application")).text()
    assert f'href="{PATH}"' in page


async def test_a_preview_shows_matches_and_saves_nothing(console: Bot) -> None:
    assert console.rt.store is not None
    await console.rt.store.write_many([
        response_record(n, ["no", "2", "No parking anywhere near the office"]) for n in range(3)
    ])  # fmt: skip
    browser, form = await admin(console)
    typed = "The parking lot was full\nMy rent is late"
    shown = await browser.post(PATH, with_(form, action="preview", samples=typed, **PARKING))
    html = await shown.text()
    assert shown.status == 200 and "not saved yet" in html
    rows = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(
        r'<th scope="row">([^<]+) <span class="hint">[^<]*</span></th><td>(\d+)</td><td>(\d+)</td>',
        html)}  # fmt: skip
    assert rows["Parking"] == (4, 0)  # three stored comments and one typed; none before
    assert rows["Housing"] == (1, 1)
    assert 'The parking lot was full <span class="hint">(parking)</span>' in html
    assert "Among 5 sample comments" in html
    assert console.rt.services["benefits-application"].themes.get("parking") is None
    kept = fields_of(html, 'class="settings"')
    assert ("themes.2.id", "parking") in kept and ("samples", typed) in kept  # as typed


async def test_errors_are_shown_at_their_fields(console: Bot) -> None:
    browser, form = await admin(console)
    bad = {**PARKING, "themes__2__phrases__en": "parking\n*", "themes__2__label__es": "",
           "themes__1__id": "Bad Id", "themes__1__phrases__en": "x y"}  # fmt: skip
    refused = await browser.post(PATH, with_(form, action="save", **bad))
    html = await refused.text()
    assert refused.status == 422 and "Nothing was changed" in html
    assert 'id="themes.1.id-error">Give an id' in html
    assert 'aria-describedby="themes.1.id-error themes.1.id-hint" aria-invalid="true"' in html
    refused = await browser.post(
        PATH,
        with_(
            form,
            action="preview",
            **{**PARKING, "themes__2__phrases__en": "parking\n*", "themes__2__label__es": ""},
        ),
    )
    html = await refused.text()
    assert refused.status == 422
    assert re.search(r'id="themes.2.phrases.en-error">phrase &#39;\*&#39; has a word', html)
    assert 'id="themes.2.label" tabindex="-1">a new theme needs a label in &#39;es&#39;' in html
    assert '<a href="#themes.2.label">theme 2: label</a>' in html
    assert console.rt.services["benefits-application"].themes.get("parking") is None


async def test_a_save_is_audited_tags_new_comments_and_can_be_undone(console: Bot) -> None:
    browser, form = await admin(console)
    saved = await browser.post(PATH, with_(form, action="save", **{
        **PARKING, "themes.0.remove": "on"}))  # fmt: skip
    assert saved.status == 303
    taxonomy = console.rt.services["benefits-application"].themes
    assert taxonomy.get("parking") is not None and taxonomy.get("housing") is None
    assert taxonomy.get("wait_time") is not None  # the defaults still apply
    # what the outbox tags the comments received from now on with
    now = console.rt.themes_of("benefits-application")
    assert tag("No parking, and my rent is due", "en", now) == ("appointments", "parking")
    assert console.rt.store is not None
    [entry, *_] = await console.rt.store.audit_entries(action="service.")
    assert entry["action"] == "service.themes" and entry["actor"] == "admin (token)"
    assert entry["details"]["after"]["themes"] == [
        {"id": "parking", "phrases": {"en": ["parking", "parking lot"], "es": ["estacionamiento"]},
         "label": {"en": "Parking", "es": "Estacionamiento"}}]  # fmt: skip
    html = await (await browser.get(PATH)).text()
    assert ("themes.0.id", "parking") in fields_of(html, 'class="settings"')
    only_own = [(k, v) for k, v in fields_of(html, 'class="settings"') if k != "default_themes"]
    assert (await browser.post(PATH, [*only_own, ("action", "save")])).status == 303
    assert console.rt.services["benefits-application"].themes.get("wait_time") is None
    settings = await (await browser.get("/admin/services/benefits-application/settings")).text()
    changes = re.findall(r'name="change" value="(\d+)"', settings)
    csrf = await browser.csrf()
    for change in changes[:2]:  # undo both, the newest first
        restored = await browser.post("/admin/services/benefits-application/restore",
                                      {"csrf": csrf, "change": change})  # fmt: skip
        assert restored.status == 303
    back = console.rt.services["benefits-application"].themes
    assert back.get("housing") is not None and back.get("wait_time") is not None
    assert back.get("parking") is None
