"""What a browser would post for a form on a page, read from its HTML (for route tests that
post a page's own form back, as a person does)."""

from __future__ import annotations

from html.parser import HTMLParser


class FormFields(HTMLParser):
    """What a browser posts for a page's builder form: every named control's value as shown
    (checked boxes only, the selected option, a text area's text)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._first: str | None = None
        self._chosen = False
        self._area: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._first, self._chosen = a["name"], None, False
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            if "selected" in a:
                self._chosen = True
                self.fields.append((self._select, value if value is not None else "\0"))
            elif self._first is None:
                self._first = value if value is not None else "\0"
        elif tag == "textarea" and a.get("name"):
            self._area, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._area is not None:
            self._text += data
        if self.fields and self.fields[-1][1] == "\0":  # <option>text</option> without value
            self.fields[-1] = (self.fields[-1][0], data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            if not self._chosen and self._first is not None:
                self.fields.append((self._select, self._first))
            self._select = None
        elif tag == "textarea" and self._area is not None:
            self.fields.append((self._area, self._text.removeprefix("\n")))
            self._area = None


def fields_of(page: str, form: str = 'class="builder"') -> list[tuple[str, str]]:
    """What a browser posts for the form that carries ``form`` (its class by default)."""
    parser = FormFields()
    parser.feed(page.split(form, 1)[1].split("</form>", 1)[0])
    return [(k, v) for k, v in parser.fields if k != "do"]
