"""The console's Audit page through its real routes: admins only (a viewer sees neither the
page nor its link), filters by target, action and person, paged, each change linked to where
it can be seen."""

from __future__ import annotations

import re

from .conftest import Bot
from .test_console import Browser


async def test_the_audit_page_filters_pages_and_links(console: Bot) -> None:
    store = console.rt.store
    assert store is not None
    for n in range(60):
        await store.audit("cli:ops", "replay", "outbox", {"moved": n})
    await store.audit("Ada Admin", "service.pause", "permit-renewal",
                      {"before": {"paused": False}, "after": {"paused": True}})  # fmt: skip
    await store.audit("Ada Admin", "flow.activate", "a11-v2-thumbs",
                      {"before": "aaa111", "after": "bbb222"})  # fmt: skip
    viewer = Browser(console)
    await viewer.sign_in("viewer-token")
    assert (await viewer.get("/admin/audit")).status == 403
    assert "/admin/audit" not in await (await viewer.get("/admin")).text()  # no link either
    admin = Browser(console)
    await admin.sign_in("admin-token")
    page = await (await admin.get("/admin/audit")).text()
    assert 'href="/admin/audit"' in page and "50 entries, newest first" in page
    assert 'href="/admin/flows/a11-v2-thumbs/diff?from=aaa111&amp;to=bbb222"' in page
    assert "active version aaa111 → bbb222" in page
    link = re.search(r'href="(/admin/services/permit-renewal/settings#change-\d+)"', page)
    assert link is not None and "paused: false → true" in page
    older = re.search(r'href="(/admin/audit\?[^"]*before=\d+)">Older entries', page)
    assert older is not None
    rest = await (await admin.get(older.group(1).replace("&amp;", "&"))).text()
    assert re.search(r"1[0-9] entries before entry \d+, newest first", rest)
    assert "Older entries" not in rest and "Newest entries" in rest
    only = await (await admin.get("/admin/audit?target=permit-renewal")).text()
    assert "1 entry, newest first" in only and "surveys paused" in only
    by = await (await admin.get("/admin/audit?actor=Ada+Admin&action=flow.")).text()
    assert "1 entry, newest first" in by and "flow version activated" in by
    none = await (await admin.get("/admin/audit?actor=nobody")).text()
    assert "No entries match." in none
    for hostile in ("?before=99999999999", "?before=-1", "?target=" + "x" * 5000):
        assert (await admin.get("/admin/audit" + hostile)).status == 200
    for hostile in ("?actor=%00", "?action=%C2%81%00"):  # PostgreSQL refuses a NUL: 400 first
        assert (await admin.get("/admin/audit" + hostile)).status == 400
