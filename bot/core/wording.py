"""How to answer, in the words of the interface a person has.

A flow's question says what it asks in one text per language; how to answer it depends on the
kind of interface the channel gives a person (``Interface``, declared by each channel's
``ChannelKind.interface``):

- ``text``: a text message (SMS, WhatsApp): keywords and numbers ("Reply 1 for Yes, 0 for No",
  "Reply STOP to opt out"), options listed with their numbers;
- ``buttons``: a chat with buttons (Slack): the options are buttons and checkboxes, typing works;
- ``web``: a web page (web chat): controls, no keywords; opting out is a button;
- ``voice``: a call: keypad and speech, spoken instructions, options read out.

Every instruction has a built-in wording per interface in English and Spanish (``DEFAULTS``),
so one flow serves every channel; a flow may override any of them (``instructions:`` in its
file, checked by ``bot.core.flowfile``). The engine adds an instruction after the question's
own words, lists the options with ``option``, and fills the intro's ``{opt_out}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Interface = Literal["text", "buttons", "web", "voice"]
INTERFACES: tuple[Interface, ...] = ("text", "buttons", "web", "voice")
# What each interface is called where people read about it (``flows check``, the console).
DESCRIPTIONS: dict[Interface, str] = {
    "text": "text message",
    "buttons": "chat with buttons",
    "web": "web page",
    "voice": "voice call",
}

# What a question asks for (``answer_kind``): the instruction after its words has this name,
# and the hint after a reply that was not understood this name with ``_reprompt``.
ANSWERS = ("thumbs", "five_point", "drivers", "choice", "free_text")
# Every instruction: how to opt out (the intro's {opt_out}), how an option is listed ({number}
# and {label}; empty where the options are controls), and per answer kind its instruction and
# its reprompt.
NAMES: tuple[str, ...] = ("opt_out", "option", *ANSWERS, *(f"{a}_reprompt" for a in ANSWERS))
# Placeholders only an option line may use.
OPTION_PLACEHOLDERS = frozenset({"number", "label"})

# Per interface, per instruction, per language: a template ("" says nothing).
Wording = Mapping[Interface, Mapping[str, Mapping[str, str]]]

_SORRY = {"en": "Sorry, I didn't get that.", "es": "Disculpe, no le entendimos."}


def _reprompts(en: dict[str, str], es: dict[str, str]) -> dict[str, dict[str, str]]:
    """The ``<answer>_reprompt`` instructions, each after the apology (but ``free_text``'s,
    which asks again without one)."""

    def line(lang: str, hint: str, answer: str) -> str:
        return hint if answer == "free_text" else f"{_SORRY[lang]} {hint}"

    return {
        f"{answer}_reprompt": {"en": line("en", en[answer], answer),
                               "es": line("es", es[answer], answer)}
        for answer in ANSWERS
    }  # fmt: skip


DEFAULTS: dict[Interface, dict[str, dict[str, str]]] = {
    # The words the bot has always texted: carriers' rules want STOP in the first message.
    "text": {
        "opt_out": {"en": "Reply STOP to opt out.", "es": "Responda STOP para cancelar."},
        "option": {"en": "{number} {label}", "es": "{number} {label}"},
        "thumbs": {"en": "Reply 1 for Yes, 0 for No.", "es": "1=Sí 0=No"},
        "five_point": {
            "en": "Reply 1 (strongly disagree) to 5 (strongly agree).",
            "es": "Responda de 1 (muy en desacuerdo) a 5 (muy de acuerdo).",
        },
        "drivers": {"en": "Reply all that apply, e.g. 1 3",
                    "es": "Elija todas las que apliquen, ej. 1 3"},
        "choice": {"en": "Reply with one number.", "es": "Responda con un número."},
        "free_text": {"en": "Reply with a message, or SKIP.", "es": "Escriba su mensaje u OMITIR."},
        **_reprompts(
            {
                "thumbs": "Reply 1 for Yes or 0 for No, or SKIP.",
                "five_point": "Reply 1 (strongly disagree) to 5 (strongly agree), or SKIP.",
                "drivers": "Reply with the numbers that apply, e.g. 1 3, or SKIP.",
                "choice": "Reply with one number from the list, or SKIP.",
                "free_text": "Please reply with a short message, or SKIP.",
            },
            {
                "thumbs": "Responda 1 para Sí o 0 para No, u OMITIR.",
                "five_point": "Responda del 1 (totalmente en desacuerdo) al 5 (totalmente de "
                "acuerdo), u OMITIR.",
                "drivers": "Elija las que apliquen, ej. 1 3, u OMITIR.",
                "choice": "Elija una de la lista, u OMITIR.",
                "free_text": "Por favor escriba un mensaje corto, u OMITIR.",
            },
        ),
    },
    # Buttons and checkboxes carry the options; a reply is typed like a text (STOP, SKIP).
    "buttons": {
        "opt_out": {"en": "Reply STOP to opt out.", "es": "Responda STOP para cancelar."},
        "option": {"en": "", "es": ""},
        "thumbs": {"en": "", "es": ""},
        "five_point": {
            "en": "Choose 1 (strongly disagree) to 5 (strongly agree).",
            "es": "Elija de 1 (muy en desacuerdo) a 5 (muy de acuerdo).",
        },
        "drivers": {"en": "Choose all that apply, then Submit.",
                    "es": "Elija todas las que apliquen y luego Enviar."},
        "choice": {"en": "Choose one.", "es": "Elija una."},
        "free_text": {"en": "Reply with a message, or SKIP.", "es": "Escriba su mensaje u OMITIR."},
        **_reprompts(
            {
                "thumbs": "Choose Yes or No, or reply SKIP.",
                "five_point": "Choose 1 (strongly disagree) to 5 (strongly agree), or reply "
                "SKIP.",
                "drivers": "Choose all that apply, then Submit; or reply SKIP.",
                "choice": "Choose one, or reply SKIP.",
                "free_text": "Please reply with a short message, or SKIP.",
            },
            {
                "thumbs": "Elija Sí o No, o responda OMITIR.",
                "five_point": "Elija de 1 (muy en desacuerdo) a 5 (muy de acuerdo), o responda "
                "OMITIR.",
                "drivers": "Elija todas las que apliquen y luego Enviar, o responda OMITIR.",
                "choice": "Elija una, o responda OMITIR.",
                "free_text": "Por favor escriba un mensaje corto, u OMITIR.",
            },
        ),
    },
    # The page's controls say the rest: labelled buttons, checkboxes, a "Skip this question"
    # button, and a "Don't ask me again" button for the opt-out.
    "web": {
        "opt_out": {"en": "", "es": ""},
        "option": {"en": "", "es": ""},
        "thumbs": {"en": "", "es": ""},
        "five_point": {"en": "", "es": ""},
        "drivers": {"en": "Choose all that apply.", "es": "Elija todas las que apliquen."},
        "choice": {"en": "Choose one.", "es": "Elija una."},
        "free_text": {"en": "", "es": ""},
        **_reprompts(
            {
                "thumbs": "Choose Yes or No, or skip this question.",
                "five_point": "Choose a number from 1 to 5, or skip this question.",
                "drivers": "Check the ones that apply, or skip this question.",
                "choice": "Choose one of the answers, or skip this question.",
                "free_text": "Please write a short message, or skip this question.",
            },
            {
                "thumbs": "Elija Sí o No, u omita esta pregunta.",
                "five_point": "Elija un número del 1 al 5, u omita esta pregunta.",
                "drivers": "Marque las que apliquen, u omita esta pregunta.",
                "choice": "Elija una de las respuestas, u omita esta pregunta.",
                "free_text": "Por favor escriba un mensaje corto, u omita esta pregunta.",
            },
        ),
    },
    # Said aloud: keys and speech, the options read out one by one, 9 opts out (said in the
    # intro), # ends a list of keys.
    "voice": {
        "opt_out": {"en": "To stop these calls, press 9.",
                    "es": "Para no recibir más llamadas, oprima 9."},
        "option": {"en": "For {label}, press {number}.", "es": "Para {label}, oprima {number}."},
        "thumbs": {"en": "Press 1 for yes, 2 for no, or say yes or no.",
                   "es": "Oprima 1 para sí, 2 para no, o diga sí o no."},
        "five_point": {
            "en": "Press or say a number from 1, strongly disagree, to 5, strongly agree.",
            "es": "Oprima o diga un número del 1, muy en desacuerdo, al 5, muy de acuerdo.",
        },
        "drivers": {
            "en": "Press the numbers that apply, then the pound key, or say them.",
            "es": "Oprima los números que apliquen y luego la tecla numeral, o dígalos.",
        },
        "choice": {"en": "Press or say the number of your answer.",
                   "es": "Oprima o diga el número de su respuesta."},
        # A <Gather> listens as soon as the question is said: there is no tone to wait for.
        "free_text": {
            "en": "Please say your comment now. To skip, press the pound key.",
            "es": "Por favor, diga su comentario ahora. Para omitir, oprima la tecla numeral.",
        },
        **_reprompts(
            {
                "thumbs": "Press 1 for yes or 2 for no, or say yes or no.",
                "five_point": "Press or say a number from 1 to 5.",
                "drivers": "Press the numbers that apply, then the pound key.",
                "choice": "Press or say the number of your answer.",
                "free_text": "Sorry, I didn't get that. Please say your comment now, or press "
                "the pound key to skip.",
            },
            {
                "thumbs": "Oprima 1 para sí o 2 para no, o diga sí o no.",
                "five_point": "Oprima o diga un número del 1 al 5.",
                "drivers": "Oprima los números que apliquen y luego la tecla numeral.",
                "choice": "Oprima o diga el número de su respuesta.",
                "free_text": "Disculpe, no le entendimos. Por favor, diga su comentario ahora, "
                "u oprima la tecla numeral para omitir.",
            },
        ),
    },
}  # fmt: skip
