"""The bot's own short answers outside a survey (keywords, no open survey), per language."""

from __future__ import annotations

OPTED_OUT = {
    "en": "{program}: you are unsubscribed and will get no more messages. "
    "Reply START to resubscribe.",
    "es": "{program}: se ha dado de baja y no recibirá más mensajes. Responda START para volver.",
}
# Where no keyword can be typed back (a page's "Don't ask me again" button, a call's key), the
# confirmation offers no START (``opted_out``).
OPTED_OUT_BY_INTERFACE = {
    "web": {
        "en": "{program}: we will not ask you for feedback again.",
        "es": "{program}: no le volveremos a pedir su opinión.",
    },
    "voice": {
        "en": "{program}: you will get no more survey calls. Goodbye.",
        "es": "{program}: no recibirá más llamadas de encuestas. Adiós.",
    },
}
OPTED_IN = {
    "en": "{program}: you are resubscribed. Reply STOP to opt out.",
    "es": "{program}: se ha suscrito de nuevo. Responda STOP para cancelar.",
}
HELP = {
    "en": "{program}: {contact} Reply STOP to opt out.",
    "es": "{program}: {contact} Responda STOP para cancelar.",
}
NO_SURVEY = {
    "en": "{program}: there is no open survey for this number. "
    "Reply HELP for help, STOP to opt out.",
    "es": "{program}: no hay una encuesta abierta para este número. Responda AYUDA o STOP.",
}
# Told to the person alone (a chat's ephemeral note) when a click on a button is not taken.
CLICK_ANSWERED = {
    "en": "That question was already answered, so this click was not recorded.",
    "es": "Esa pregunta ya tiene respuesta, así que este clic no se registró.",
}
CLICK_CLOSED = {
    "en": "This survey has closed, so this click was not recorded. Thank you for your time.",
    "es": "La encuesta ha cerrado, así que este clic no se registró. Gracias por su tiempo.",
}
SURVEY_CLOSED = {
    "en": "This survey has closed. Thank you for your time.",
    "es": "La encuesta ha cerrado. Gracias por su tiempo.",
}
SPANISH_KEYWORDS = frozenset({"parar", "alto", "cancelar", "ayuda"})


def reply(table: dict[str, str], language: str, **values: str) -> str:
    """A reply from one of the tables above, in ``language`` when it has one."""
    return table.get(language, table["en"]).format(**values).replace("  ", " ")


def opted_out(language: str, interface: str, program: str) -> str:
    """The confirmation of an opt-out, in the words of the person's interface."""
    table = OPTED_OUT_BY_INTERFACE.get(interface, OPTED_OUT)
    return reply(table, language, program=program)
