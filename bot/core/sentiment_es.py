"""What the sentiment scorer looks for in Spanish comments (pure data and one word scorer): a
lexicon of word stems, facts, contrasts, ratings and sarcasm.

Why our own lexicon: no maintained Spanish scorer on the package index runs offline and light.
Tried (December 2026): SentiLeak (LGPL) downloads a spaCy model at run time and pins
numpy < 1.22; senticnet's Babel Spanish is machine-translated (no "fácil", "pésimo" or
"perfecto"; "claro" scores -0.62), its import took 46 s and 12 MB; pysentimiento downloads
transformer models and is for non-commercial use; sentiment-analysis-spanish unpickles 30 MB
of 2021 scikit-learn objects. A stem lexicon is small, explainable, and fast; its accuracy
is measured in ``bench/sentiment.py`` on labelled Spanish sets.

Words: accents are dropped and shorthand expanded by ``bot.core.shorthand`` ("q" -> "que",
"xq" -> "porque", "pa" -> "para"); each word takes the weight of the longest stem it starts
with, regional words of Mexico, the Caribbean, Central and South America included ("chido",
"chévere", "bacano", "malcriado", "jodido"); a word after "muy", "súper", "demasiado" and the
like weighs half as much again; the first sentiment word within three after "no", "nunca",
"nadie", "sin" and the like is flipped, a positive one firmly ("no me ayudaron" is negative)
and a negative one mildly ("sin problemas" is somewhat positive); a few phrases carry their
own weight ("pérdida de tiempo", "de primera"). Facts, as in English, are general shapes:
waiting counted in hours or months, "todavía no", "nunca llegó", "nadie contesta", a third
visit, "se cayó el sistema"; "en 10 minutos", "el mismo día", "me aprobaron", "paso a paso".
"""

from __future__ import annotations

import re

from bot.core.cues import Cues, Rating, out_of, stars
from bot.core.cues import bounded as _re

NEGATORS = frozenset(
    "no nunca jamas nadie nada ni sin tampoco ningun ninguna ninguno apenas not never".split()
)
# "bien" before a word is "very" in much of Latin America ("bien chido", "bien malcriado");
# "burda" and "full" are Venezuelan.
# Someone close, whose help is no praise of the service ("mi hija me ayudo a llenarlo").
RELATIVES = frozenset(
    "hija hijo esposa esposo mama papa madre padre hermana hermano nieta nieto sobrina "
    "sobrino amiga amigo vecina vecino prima primo tia tio abuela abuelo suegra suegro "
    "cunada cunado novia novio pareja hijos hijas".split()
)
INTENSIFIERS = frozenset(
    "muy super demasiado tan bastante mucho muchisimo re sumamente bien burda full".split()
)

# Stems (accents dropped) and weights, -1..1. A word takes its longest matching stem.
STEMS: dict[str, float] = {
    # praise and thanks
    "gracias": 0.5, "agradec": 0.5, "agradezc": 0.5, "excelent": 0.8, "buen": 0.5,
    "bien": 0.5, "mejor": 0.5, "genial": 0.7, "perfect": 0.7, "maravill": 0.8,
    "fantastic": 0.8, "increibl": 0.5, "estupend": 0.7, "encant": 0.6, "felic": 0.6,
    "feliz": 0.6, "content": 0.5, "satisfech": 0.6, "recomiend": 0.5, "recomend": 0.5,
    "positiv": 0.4, "sorprend": 0.3, "gust": 0.4, "alegr": 0.5,
    "bendic": 0.5, "bendig": 0.5, "angel": 0.6, "amor": 0.5, "heroe": 0.6, "milagro": 0.3,
    "tranquil": 0.2, "comod": 0.4, "limpi": 0.3, "humano": 0.4, "humana": 0.4,
    "considerad": 0.5, "servicial": 0.6, "dispuest": 0.4, "lind": 0.5, "divin": 0.6,
    # the service and the people
    "amabl": 0.6, "atent": 0.5, "pacienc": 0.4, "pacient": 0.4, "respetu": 0.5,
    "respet": 0.3, "profesional": 0.5, "cortes": 0.5, "cordial": 0.5, "carin": 0.5,
    "eficient": 0.6, "eficaz": 0.5, "rapid": 0.5, "agil": 0.5, "facil": 0.5, "sencill": 0.5,
    "simple": 0.3, "practic": 0.4, "clar": 0.3, "util": 0.4, "organizad": 0.4,
    "puntual": 0.4, "ayud": 0.15, "resolv": 0.4, "resuelt": 0.4, "solucion": 0.4,
    "aprob": 0.3, "funcion": 0.2, "sirv": 0.2, "sirve": 0.2, "entend": 0.2,
    "explic": 0.1, "atendi": 0.1, "atend": 0.1,
    # regional praise
    "chid": 0.7, "chevere": 0.7, "chebere": 0.7, "bacan": 0.7, "chimba": 0.6,
    "padrisim": 0.8, "chulo": 0.6, "chula": 0.6, "chiv": 0.6, "tuanis": 0.7,
    "jevi": 0.6, "nitid": 0.6, "cheler": 0.5, "guay": 0.6,
    "berraco": 0.4, "bacanisim": 0.8, "copad": 0.6, "buenaz": 0.7,
    "genia": 0.6, "crack": 0.5, "capo": 0.5, "joya": 0.6, "chingon": 0.7, "rifo": 0.6,
    "rifaron": 0.6, "fregon": 0.6,
    # complaints
    "mal": -0.6, "malo": -0.6, "mala": -0.6, "pesim": -0.9, "peor": -0.7, "horribl": -0.8,
    "terribl": -0.8, "fatal": -0.8, "desastr": -0.8, "grocer": -0.7, "groser": -0.7,
    "maleducad": -0.7, "lent": -0.5, "tard": -0.4, "esper": -0.15, "eterna": -0.6,
    "eterno": -0.6, "demor": -0.4, "retras": -0.5, "complicad": -0.5, "complicacion": -0.4,
    "dificil": -0.5, "confus": -0.6, "enred": -0.5, "imposibl": -0.7, "inutil": -0.8,
    "frustr": -0.7, "molest": -0.6, "enoj": -0.6, "decepcion": -0.7, "triste": -0.5,
    "ignor": -0.5, "perd": -0.4, "error": -0.5, "equivocad": -0.5, "fall": -0.4,
    "problem": -0.4, "cae": -0.3, "trab": -0.4, "colg": -0.5, "cort": -0.3,
    "desorganizad": -0.6, "desactualizad": -0.5, "neg": -0.4, "rechaz": -0.5,
    "cobr": -0.2, "queja": -0.5, "quej": -0.4, "abus": -0.6, "injust": -0.6,
    "verguenza": -0.7, "burla": -0.6, "robo": -0.7, "nadie": -0.4, "nunca": -0.3,
    "todavia": -0.1, "aun": -0.1, "semanas": -0.2, "meses": -0.3, "horas": -0.2,
    "culpa": -0.4, "mentir": -0.6, "mentira": -0.6, "odi": -0.8, "harta": -0.7,
    "harto": -0.7, "cansad": -0.5, "irrespet": -0.7, "desprecio": -0.7, "despreci": -0.6,
    "inacept": -0.8, "ridicul": -0.7, "absurd": -0.7, "indignant": -0.8, "indign": -0.6,
    "pesadill": -0.8, "caos": -0.7, "caotic": -0.7, "lentitud": -0.6, "tardan": -0.5,
    "tardaron": -0.5, "tardo": -0.4, "malisim": -0.9, "sucio": -0.5,
    "sucia": -0.5, "calor": -0.3, "incomod": -0.4, "estres": -0.5, "preocup": -0.4,
    "angusti": -0.6, "desesper": -0.7, "humill": -0.8, "discrimin": -0.8, "racist": -0.8,
    "falta": -0.15, "faltab": -0.2, "confund": -0.5, "perdid": -0.5, "inservibl": -0.8,
    "deficient": -0.7, "mediocr": -0.7, "desconsiderad": -0.7, "prepotent": -0.7,
    "antipatic": -0.7, "pedant": -0.6, "regan": -0.6, "grit": -0.6, "desagradabl": -0.7,
    # regional complaints
    "malcriad": -0.7, "mamon": -0.7, "gach": -0.7, "jodid": -0.7, "relajo": -0.5,
    "ladilla": -0.7, "pereza": -0.6, "boleta": -0.6, "arrech": -0.7, "jart": -0.7,
    "vaina": -0.2, "naco": -0.5, "sangron": -0.7, "pesad": -0.5,
    "chafa": -0.7, "culer": -0.6, "guachafita": -0.6, "desmadre": -0.7, "cagad": -0.7,
    "mierd": -0.8, "despelot": -0.7, "horror": -0.8, "desmad": -0.7, "porqueria": -0.8,
    "basura": -0.8, "chimbo": -0.6, "berrinche": -0.4,
    "tortur": -0.8, "bronca": -0.5, "hueva": -0.5, "flojer": -0.5,
    "fastidi": -0.6, "jartera": -0.7, "cabre": -0.6, "encabron": -0.8, "emputad": -0.8,
    "eyeroll": -0.6, "coraje": -0.6, "quilombo": -0.7, "viacrucis": -0.7, "calvario": -0.7,
    "martirio": -0.7, "majader": -0.7, "tortuga": -0.5, "bochinche": -0.6, "cagar": -0.7,
    "cagaron": -0.7, "frio": -0.3, "fria": -0.3, "macanud": 0.7, "calidad": 0.4,
    "despiole": -0.7, "barbar": 0.4, "bonit": 0.4, "mamera": -0.6, "asco": -0.7,
    "cutre": -0.6, "gandall": -0.6, "transa": -0.6, "ratero": -0.6, "chueco": -0.5,
    "pinche": -0.5, "maldit": -0.6, "desgraciad": -0.7, "guacala": -0.6, "choto": -0.6,
    "trucho": -0.6, "berreta": -0.6, "bodrio": -0.7, "lamentabl": -0.7, "deplorabl": -0.8,
    "penos": -0.6, "vergonzos": -0.7, "patetic": -0.8, "negligent": -0.7, "incompetent": -0.8,
    "inept": -0.8, "despot": -0.7, "altaner": -0.6, "hostil": -0.6, "canse": -0.5,
    "espectacular": 0.8, "fenomenal": 0.8, "impecabl": 0.7, "majo": 0.5, "maja": 0.5,
    "simpatic": 0.5, "dedicad": 0.4, "comprensiv": 0.5, "honest": 0.4, "responsabl": 0.4,
    "bendec": 0.5, "conform": 0.3, "filete": 0.5, "bacanisimo": 0.8, "agradabl": 0.6,
    "brillant": 0.5, "brutal": 0.4, "berrac": 0.6,
    "fresa": -0.3, "feo": -0.5, "fea": -0.5, "feos": -0.5, "fome": -0.5, "chapucer": -0.7,
    "cochin": -0.6,
    # English words in Spanish comments ("bien nice", "el staff bien rude")
    "nice": 0.6, "friendly": 0.6, "helpful": 0.6, "cool": 0.5, "awesome": 0.8,
    "amazing": 0.8, "fast": 0.5, "easy": 0.5, "worst": -0.8, "sucks": -0.7, "rude": -0.7,
    "best": 0.6, "bestia": -0.5,
    # the English scorer turns emoji and emoticons into these words
    "good": 0.6, "great": 0.8, "happy": 0.6, "love": 0.7, "thanks": 0.5, "thank": 0.5,
    "excellent": 0.8, "bad": -0.6, "terrible": -0.8, "angry": -0.7, "sad": -0.5,
    "frustrated": -0.7, "annoyed": -0.5, "meh": -0.1, "star": 0.0, "slow": -0.5,
    # words that start like a stem but mean something else weigh nothing
    "maleta": 0.0, "esperanza": 0.0, "perdon": 0.0, "tarde": 0.0, "funcionari": 0.0,
    "negoci": 0.0, "negr": 0.0, "trabaj": 0.0, "aunque": 0.0, "utiliz": 0.0,
    "buenas": 0.0, "buenos": 0.0, "corte": 0.0, "cortos": 0.0, "corto": 0.0, "corta": 0.0,
    "clari": 0.3, "claro": 0.1, "faltar": -0.3, "tardes": 0.0,
    "malla": 0.0, "falla": -0.5, "fallo": -0.5, "pagina": 0.0, "pelea": -0.5,
    "padres": 0.0, "problemas": -0.4, "gusto": 0.4,
}  # fmt: skip
PHRASES: dict[str, float] = {
    "perdida de tiempo": -0.9, "no sirve": -0.6, "de primera": 0.6, "nunca mas": -0.7,
    "a cada rato": -0.3, "en espera": -0.3, "se corto": -0.4, "me colgaron": -0.3,
    "mil gracias": 0.4, "de mas": -0.3, "de una oficina a otra": -0.6,
    "a toda madre": 0.8, "de poca madre": 0.8, "pura vida": 0.6, "que buena onda": 0.7,
    "buena onda": 0.6, "mala onda": -0.7, "de lujo": 0.7, "de maravilla": 0.8,
    "se porto": 0.6, "se portaron": 0.6, "se lucio": 0.7, "se lucieron": 0.7,
    "una eternidad": -0.7, "un relajo": -0.6, "un desastre": -0.8, "un caos": -0.7,
    "la pele": -0.5, "me vale": -0.4, "ni modo": -0.2, "bien hecho": 0.6,
    "de mala gana": -0.8, "a la primera": 0.5, "al pelo": 0.7, "a todo dar": 0.7,
    "que chimba": 0.7, "una chimba": 0.7, "que pereza": -0.6, "que boleta": -0.7,
    "arroz con mango": -0.7, "bien padre": 0.7, "muy padre": 0.7, "que padre": 0.7,
    "lo que falta": 0.1, "ni pies ni cabeza": -0.8, "no tiene sentido": -0.7,
    "delante de todos": -0.4, "enfrente de todos": -0.4, "mala leche": -0.7,
    "que nota": 0.6, "una nota": 0.5, "del putas": 0.6, "un asco": -0.8, "que asco": -0.8,
    "la raja": 0.7, "al cien": 0.7, "al 100": 0.7, "buena gente": 0.6, "que oso": -0.6,
    "hasta la coronilla": -0.8, "hasta el copete": -0.8, "sin ganas": -0.6,
    "de mala manera": -0.7, "de la patada": -0.8, "del nabo": -0.7, "metieron la pata": -0.7,
    "ni me volteo": -0.6, "ni me volteaba": -0.6, "ni me miro": -0.6, "cero estrellas": -0.8,
}  # fmt: skip
WORD = re.compile(r"[a-z0-9]+")


def weight(word: str) -> float:
    """A word's weight: its longest stem's, 0 without one."""
    for end in range(len(word), 2, -1):
        found = STEMS.get(word[:end])
        if found is not None:
            return found
    return 0.0


_WONDER = [[w] for w in "si cuando que como donde cuanto cuantos por".split()]


def polarity(words: list[str]) -> tuple[float, int]:
    """The summed weight of a comment's words and phrases, and how many words carried one."""
    joined = " ".join(words)
    total = 0.0
    hits = 0
    for phrase, w in PHRASES.items():
        if f" {phrase} " in f" {joined} ":
            total += w
            hits += 1
    negated = 0  # words left in the scope of the last negator
    for i, word in enumerate(words):
        value = weight(word)
        if value and word.startswith("ayud") and not RELATIVES.isdisjoint(words[max(0, i - 3) : i]):
            value = 0.0  # "mi hija me ayudo": no praise of the service
        if word in NEGATORS and not (
            word == "no" and words[i + 1 : i + 2] == ["se"] and words[i + 2 : i + 3] in _WONDER
        ):
            negated = 3
        elif value and negated:
            # "no me ayudaron" is plainly negative; "sin problemas" only mildly positive.
            value = -max(0.8 * value, 0.5) if value > 0 else -0.5 * value
            negated = 0  # a negator governs the first sentiment word after it
        else:
            negated = max(0, negated - 1)
        if not value:
            continue
        hits += 1
        if i and words[i - 1] in INTENSIFIERS:
            value *= 1.5
        total += value
    return total, hits


def lexical(sentence: str) -> tuple[float, float | None, int]:
    """A plain sentence's polarity by the stem lexicon (no subjectivity), and how many words
    carried weight."""
    total, hits = polarity(WORD.findall(sentence))
    return total / 2, None, hits


_N = (
    r"(?:\d+|un|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|quince|"
    r"veinte|treinta|varias|varios|muchas|muchos|unas|unos|un par de|media|medio)"
)
_MANY = r"(?:[2-9]|\d\d+|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|varias|muchas|mil)"
_MONTH = (
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    r"noviembre|diciembre)"
)


FACTS: list[tuple[re.Pattern[str], float]] = [
    # waiting counted in hours, days, months; "desde enero"
    (_re(r"(?:esper\w*|en (?:la )?fila|en (?:la )?linea|en la cola|sentad[ao]s?|parad[ao]s?|"
         r"tard\w+|llev\w+|van|pasaron|paso|pase|pasamos|hace|por|despues de|casi|mas de|"
         r"durante|con|tomo|tomaron|toma|demoro|demoraron|demora|duro|"
         r"duraron)(?: \S+){0,3} " + _N + r" (?:horas?|dias|semanas|meses|anos)"), -0.7),
    (_re(r"(?:esper\w*|en (?:la )?fila|en espera|por|mas de|casi)(?: \S+){0,2} "
         r"(?:[3-9]\d|\d{3}) minutos"), -0.6),
    (_re(r"(?<!en )(?<!menos de )(?<!de )(?<!las )(?<!la )" + _N + r" (?:horas|hora|horitas)"
         r"(?! (?:despues|antes|de anticipacion))"), -0.4),
    (_re(r"desde (?:" + _MONTH + r"|el ano pasado|hace|\d{4}|el \d+|entonces)"), -0.6),
    (_re(r"(?:ya van|ya pasaron|ya son|ya llevo|llevo|lleva|llevamos) " + _N
         + r" (?:dias|semanas|meses|anos)"), -0.6),
    (_re(r"(?:todavia|aun|sigue|siguen|sigo|seguimos) (?:no(?! se | sabemos| decido|"
         r" he decidido)|nada|sin|esperando|pendiente|en "
         r"proceso|igual|mal|con el mismo|con la misma|me cobran|cobrando|apareciendo|"
         r"diciendo|sale|dice|en revision)"), -0.8),
    (_re(r"(?:y nada|sin respuesta|nada todavia|nada aun|ni una respuesta|ni respuesta|"
         r"no hay respuesta|ni me contestan|ni contesta|ni contestan)"), -0.7),
    # never, nobody
    (_re(r"nunca (?!he tenido|me habian|me habia|habia|he sido|me han)(?:\w+)"), -0.7),
    (_re(r"nadie (?:\w+)"), -0.5),
    (_re(r"no (?:contest\w+|llega|llego|llegan|llegaron|funciona\w*|sirve\w*|me deja\w*|"
         r"deja|dejan|acepta\w*|abre|abria|carga|cargaba|aparece\w*|tienen idea|tenia idea|"
         r"tiene idea|sabia\w*|saben|sabe|me explic\w+|explican|explicaron|me llamaron|"
         r"regreso|devolvieron la llamada|reconoce|enfoca|entiende|pude|puedo|pudimos|"
         r"se puede|hay (?!problema|fila|espera|queja)(?:\w+)|habia (?!problema|fila|espera)"
         r"(?:\w+)|me ayudaron|quisieron|quiso|quieren|responden|respondieron|avisaron|"
         r"avisan|dicen nada|dijeron nada|me dieron|recibi|he recibido|ha llegado|han llegado|"
         r"ha cambiado|actualizan|cambia|es posible|es justo|tiene sentido)"), -0.6),
    # again and again
    (_re(_MANY + r" (?:veces|viajes|visitas|llamadas|intentos|transferencias|pantallas|"
         r"oficinas|ventanillas|agentes|personas distintas|respuestas distintas|"
         r"respuestas diferentes|dias sin trabajar|vueltas|cartas)"), -0.6),
    (_re(r"segunda vez"), -0.08),
    (_re(r"(?:tercera|cuarta|quinta|sexta|enesima) vez"), -0.7),
    (_re(r"(?:otra vez|de nuevo|nuevamente|otra ves|otra vuelta|y el anterior|"
         r"volver a empezar|desde cero|de un lado (?:para|a) otro|de una ventanilla a otra|"
         r"de una oficina a otra|de aqui para alla|de la ceca a la meca|me mandaron de|"
         r"me mandan de|me pasaron de|me pasan de|me transfirieron|me transfieren|"
         r"me traen de|dando vueltas|ida y vuelta|una y otra vez)"), -0.6),
    # things that failed
    (_re(r"(?:se (?:cayo|cae|corto|corta|trabo|traba|congelo|congela|colgo|cuelga|borro|borra|"
         r"perdio|perdieron|equivocaron|tardaron|tarda|tardan|demoraron|demora|demoran|"
         r"olvidaron|queda cargando|quedo cargando|queda pegad\w+|cierra)|"
         r"cayo el sistema|sistema caido|no hay sistema|no habia sistema|estaba caido|"
         r"error\w*|fall(?:o|a|an|aron)|bloquead\w*|me bloquearon|colgaron|cuelga sola|"
         r"me cuelgan|rechaz\w+|me negaron|negaron|perdieron|extraviaron|equivocad\w*|"
         r"escribieron mal|mal escrit\w*|cancelaron|cancelad\w*|me regresaron|"
         r"me (?:devolvieron|regresaron) (?:la solicitud|los papeles|la forma|el formulario|todo)|"
         r"(?:regresar|volver) (?:otro dia|manana|la otra semana|despues)|"
         r"vuelva manana|vuelva otro dia|regrese manana|solo para|para que me dijeran|"
         r"pa que me dijeran|me dijeron que (?:no|regresara|volviera|llamara|viniera)|"
         r"faltar al trabajo|falte al trabajo|pedir el dia|pedi el dia|dias sin trabajar|"
         r"sin trabajar|una sola (?:persona|ventanilla|empleada|muchacha)|"
         r"solo (?:una|un) (?:persona|ventanilla|empleado|empleada)|"
         r"cobr\w+ (?:doble|de mas|dos veces)|me (?:estan )?(?:cobrando|quitando|descontando)|"
         r"me quitan|me descuentan|me cortaron|dejaron de|ya no (?:llega|me llega|recibo|"
         r"me dan)|direccion vieja|numero viejo|no alcanza|no me alcanza|deuda|multa|"
         r"pantalla en blanco|en blanco|no existe|nos trato como|como delincuentes|"
         r"como si|a gritos|sin explicar\w*|sin decir|sin avisar|sin preguntar\w*|"
         r"sin explicacion|no hay sillas|parad[ao]s? \w+ horas|mal humor|de mala gana|"
         r"mucho papeleo|tanto papeleo|tantos papeles|demasiad[ao]s? (?:papeles|tiempo|"
         r"requisitos|pasos)|muy (?:lent[ao]|tardad[ao]|larg[ao]|complicad[ao])|"
         r"planilla equivocada|forma equivocada|me piden (?:otra vez|de nuevo)|"
         r"vuelven a pedir|me vuelven a|(?:que|lo que) ya (?:entregue|mande|lo mande|los mande)|"
         r"pidieron disculpas|disculpas pero)"), -0.6),
    (_re(r"(?:solo|apenas)? ?" + _N + r" (?:meses|anos|semanas) (?:para|pa|por)"), -0.6),
    (_re(r"podria (?:ser|estar|haber sido) mejor|podria mejorar|pueden mejorar|deja mucho que "
         r"desear|hay que mejorar|necesita mejorar|le falta|les falta|falta mucho"), -0.5),
    (_re(r"(?<!la )(?<!el )(?:otra|otro|otras|otros) (?:forma|formas|carta|cartas|llamada|"
         r"vuelta|encuesta|espera|fila|papel|papeles|formulario|viaje|tramite|requisito|"
         r"documento)"), -0.3),
    (_re(r"problema de (?:la |el )?otr[ao]|no es (?:su|nuestro|mi) (?:problema|departamento)|"
         r"(?:echan|echaba|echaron) la culpa|ni (?:el|ella|ellos|yo) (?:mismo|misma|mismos)|"
         r"no (?:entendi|entiendo|entendimos|comprendi|comprendo)|nada de lo que|"
         r"(?:solo|nomas|only) (?:habla|hablan|hablaba|hablaban|en) ingles|"
         r"(?:debia|debio|deberia haber|tenia que|tenian que) (?:llegar|estar|salir)|"
         r"despues de (?:la cita|la fecha)|un dia tarde|"
         r"\d{2,} personas (?:en la fila|esperando|antes|adelante)"), -0.6),
    (_re(r"no (?:salia|aparecia|aparece|sale|estaba|esta|existe) en (?:el|su) sistema|"
         r"(?:a|en) la (?:direccion )?vieja|al (?:numero )?viejo|(?:numero|direccion|telefono) "
         r"(?:viej\w+|anterior)|(?:te|me|nos) (?:manda|mandan|dice|dicen) (?:a|que|q) "
         r"(?:llamar|la pagina)"), -0.5),
    (_re(r"no (?:me )?(?:pagaron|pagan|van a pagar|depositaron)|sin (?:cobrar|pago|cheque|"
         r"dinero)|en frente de todos|delante de todos|me gritaron|nos gritaron|"
         r"" + _N + r" (?:mes|meses|semana|semanas|vez|veces) (?:seguid[ao]s|corrid[ao]s)"),
     -0.6),
    (_re(r'" (?:procesando\w*|en proceso|en revision|pendiente|recibido|en tramite|opcional|'
         r'actualizacion del sistema|urgente) "'), -0.6),
    (_re(r"no (?:me |nos |le |les )?(?:han|ha|habian|habia) (?:llamado|contestado|respondido|"
         r"pagado|mandado|dado|resuelto|enviado|depositado|llegado|devuelto|avisado)|"
         r"sin (?:aviso|previo aviso|razon|motivo|explicacion alguna)|(?:le|les|me|nos) "
         r"cortaron|(?:se borra|se borro|borra|borro) (?:todo|lo que)|me (?:saca|sacan|bota|"
         r"botan|tumba)|cada \d+ (?:minutos|segundos)|de memoria|me la se|"
         r"(?:\d{2,}|cinco|seis|siete|ocho|nueve|diez|[5-9]) (?:pasos|pantallas|paginas|clics|"
         r"documentos distintos)|si (?:uno|tienes|tiene|no te importa)(?: \S+){0,2} (?:dias|"
         r"horas|tiempo|todo el dia) (?:libres|libre|de sobra)|como (?:si|criminales|"
         r"delincuentes|perros|basura|animales|ignorantes)|a nadie le importa|no (?:le|les) "
         r"importa|(?:me|nos) dejaron (?:esperando|plantad\w+|en visto)|ni una (?:llamada|carta|"
         r"respuesta)"), -0.6),
    (_re(r"(?:llego|vino|esta|estaba|estan|solo|todo) en ingles|(?:trajera|traiga|traer|"
         r"traigan) (?:a )?(?:alguien|un familiar|una persona|mi propio|su propio)|"
         r"(?:dijeron|dice|dicen|dijo) una cosa|(?:me|nos|te) (?:vio|vieron|ven|mira|miro|"
         r"miraron) feo|grit\w+|(?:horitas?|\d+ horas?) de (?:musica|musiquita|espera)|"
         r"(?:volver|regresa|regresar|manda|mandan|te regresa|te manda) al (?:inicio|principio|"
         r"menu)|nada (?:nunca )?cambia|el mismo problema|cada ano lo mismo|"
         r"otra vez a la fila|al final de la fila"), -0.6),
    (_re(r'" (?:\S+ ){1,5}"'), -0.3),
    (_re(r"me (?:tienen|tuvieron|traen|trajeron) \w+(?:ando|iendo)|(?:nadie|ninguno) (?:me )?"
         r"hace caso"), -0.5),
    (_re(r"ni (?:abre|carga|funciona|sirve|contesta|contestan|llega|responde|responden|me|"
         r"deja|aparece|caso|idea|sabia|sabe|saben|una|entiende|entienden)"), -0.6),
    (_re(r"(?:siempre|always) (?:ocupad\w*|cerrad\w*|caid\w*|llen[ao]|busy|closed|down|full|"
         r"tarde|mal)"), -0.6),
    (_re(r"desconectad\w*|fuera de servicio|no da tono|suena y suena|timbra y timbra"), -0.7),
    (_re(r"(?:algo|cosas|respuestas|informacion) (?:distint\w+|diferente\w*|contradictori\w+)|"
         r"cada (?:uno|persona|agente|quien|vez) (?:me )?(?:dice|da|pide)"), -0.6),
    (_re(r"(?:no hace|no hacen|no hizo|no pasa|no paso) nada"), -0.7),
    (_re(r"(?:manejar|maneje|manejamos|viajar|viaje|viajamos|caminar|camine)(?: \S+){0,2} "
         + _N + r" (?:km|kilometros|millas|horas)|(?:te|me|nos) (?:cuelga|cuelgan|colgo|"
         r"colgaron)"), -0.6),
    (_re(r"(?:mande|solicite|aplique|envie|pedi|llame|empece|meti|pague|reporte|mude|"
         r"mudamos|cambie)(?: \S+){0,3} "
         r"(?:en|desde|para) (?:" + _MONTH + r"|\d{4}|el ano pasado)|ya es (?:" + _MONTH
         + r")"), -0.5),
    (re.compile(r"(?<!\w)(\w{3,}) y \1(?!\w)"), -0.6),
    (_re(r"(?:cerrad[ao]s?|cerraron|cerro|cierran)"), -0.3),
    (_re(r"(?:las|la) (?:ventanillas|ventanilla|cajas|oficina) (?:estaban |estaba )?"
         r"(?:cerrad\w+|vacias|sin nadie)|(?:fila|cola)(?: \S+){0,3} (?:hasta la calle|"
         r"hasta afuera|le daba la vuelta|a la vuelta|hasta el estacionamiento)"), -0.6),
    (_re(r"(?:tuve|tuvimos|tengo|tenemos|hay|habia|tuvo|tiene) que (?:regresar|volver|ir|pedir|"
         r"esperar|pagar|explicar|manejar|faltar|llamar|mandar|repetir|llenar|traer|hacer "
         r"todo|empezar|buscar|rogar|pelear|insistir|dejar|viajar|perder|imprimir)"), -0.08),
    # good events
    (_re(r"(?:en|dentro de|menos de|como|solo|apenas)(?: menos de| como| solo)? (?:\d{1,2}|un|"
         r"una|dos|tres|cuatro|cinco|diez|quince|veinte|treinta|unos|unas|pocos|pocas|media) "
         r"(?:minutos?|segundos|dias?|horas?|min)(?! (?:de espera|esperando|en espera|tarde))"),
     0.6),
    (_re(r"(?:el mismo dia|al dia siguiente|al otro dia|la misma semana|esa misma semana|"
         r"enseguida|en seguida|de inmediato|inmediatamente|al instante|al momento|rapidito|"
         r"rapidisimo|a tiempo|antes de (?:lo esperado|tiempo|la fecha|lo que pensaba)|"
         r"a la primera|en una sola (?:llamada|visita|cita)|sin cita|sin esperar|"
         r"sin problemas?|sin complicaciones|sin contratiempos|sin ningun problema|"
         r"ni me dio tiempo|ni (?:espere|esperamos|tuve que esperar|me sente)|"
         r"en un dos por tres|volando|en un ratito|mas rapido de lo|"
         r"mas facil de lo|antes de lo|en un instante|y listo|ya estaba|por fin)"), 0.6),
    (_re(r"(?:me (?:aprobaron|resolvieron|resolvio|ayudaron|ayudo|explicaron|explico|llamaron|"
         r"devolvieron (?:el|los|la|mi)|tradujo|entendio|llevo|guio|"
         r"oriento|orientaron|guiaron|asesoraron|acompano|reviso|revisaron|dejo|dejaron|"
         r"recibieron|arreglaron|arreglo|"
         r"corrigieron|corrigio|desbloqueo|verifico|consiguio|consiguieron|ahorro|salvo|"
         r"lo dieron|la dieron|los dieron|las dieron|lo resolvieron|lo arreglaron|"
         r"fue diciendo)|aprobad[ao]s?|ya tengo|ya tenia|me (?:ahorraron|depositaron)|"
         r"nos ahorraron|el mismo mes|me escucharon|me escucho|(?:sali|salimos) (?:de la oficina )?"
         r"con todo|todo (?:resuelto|listo|en orden)|"
         r"salio (?:bien|perfect\w+|todo|rapido)|quedo list\w+|quedo resuelto|quedo arreglado|"
         r"resuelto|listo|paso a paso|con (?:mucha )?paciencia|se quedo conmigo|"
         r"se acordaba|se acordo|me trataron (?:bien|con|muy)|bien atendid\w+|hablaba espanol|"
         r"hablan espanol|en mi idioma|me contestaron|contestaron|me mantiene al tanto|"
         r"me avisaron|me avisan|siempre me|tal como|tal cual|lo que necesitaba|"
         r"no me falto nada|me sirvio|me sirve|valio la pena|vale la pena|un exito|"
         r"salimos con|sali con)"), 0.5),
    (_re(r"me (?:llego|llegaron) (?:la|el|mi|los|las) (?:tarjeta|cheque|pago|reembolso|"
         r"pasaporte|permiso|dinero|deposito|beneficios|cupones|green card|residencia|licencia|"
         r"aprobacion|ayuda|retroactivo|carta de aprobacion)"), 0.5),
    (_re(r"nunca (?:me )?(?:habian|habia|han|he)(?: \S+){1,2} tan (?:rapido|bien|amable|facil|"
         r"rapidito)|no esperaba (?:tanto|que fuera tan)|(?:ya )?estaba(?:n)? (?:ahi|ya|listo|"
         r"lista|"
         r"esperando\w*)|apenas (?:entramos|llegamos|entre|llegue)|(?:le|nos|me) (?:trajeron|"
         r"dieron|ofrecieron|buscaron|consiguieron) (?:una|un) (?:silla|agua|interprete|cita|"
         r"vaso)|me (?:lleno|hizo|imprimio|busco|consiguio|lleno)"), 0.6),
    (_re(r"(?:tarjeta|cheque|pago|reembolso|pasaporte|permiso|dinero|deposito|beneficios|"
         r"cupones|green card|residencia|licencia|aprobacion|ayuda|retroactivo) (?:\w+ )?"
         r"(?:me )?(?:llego|llegaron|cayo|salio|esta lista|ya esta)"), 0.5),
    (_re(r"(?:fue|era|es) (?:mi|nuestra) (?:culpa|error)|(?:por|para) el dia siguiente|"
         r"para (?:manana|la misma semana|esa semana)|dia siguiente|todo (?:funciono|salio bien|"
         r"bien)|lo hicieron bien|(?:desde|en) (?:el celular|el cel|mi casa|la casa|la compu|"
         r"el telefono)|en mi (?:hora|rato) de (?:almuerzo|comida|descanso)|mientras esperaba|"
         r"por primera vez|me (?:regresaron|devolvieron|reembolsaron) (?:\d+|el dinero|"
         r"mi dinero|los)|\d+ (?:mil )?dolares de (?:vuelta|regreso)|me lo \w+(?:aron|ieron|o|io)|"
         r"me la \w+(?:aron|ieron)|me los \w+(?:aron|ieron)|me (?:imprimieron|hicieron|llenaron|"
         r"buscaron|consiguieron|agendaron|tramitaron)|ahi mismo"), 0.5),
    (_re(r"lo compenso|lo compensaron|(?:vio|noto|se dio cuenta)(?: de)? (?:que|q) "
         r"(?:calificaba|podia|tenia derecho)|calific(?:o|aba|ue)|mi (?:hora|rato) de "
         r"(?:almuerzo|comida|descanso)"), 0.6),
    (_re(r"en (?:una|1|dos|2) semanas?|en menos de (?:una|un|1|2|dos) (?:semana|mes)"), 0.4),
    (_re(r"(?:habia|hubo|tenian|tenia|tienen) (?:un |una )?(?:interprete|traductor\w*|"
         r"alguien que habl\w+|persona que habl\w+|gente que habl\w+)|(?:interprete|"
         r"traductor\w*) (?:esperando\w*|listo|lista|disponible)"), 0.6),
    (_re(r"exactamente (?:que|lo que|cuales|como|donde|cuando)|clarit[oa]|bien clar[oa]"), 0.6),
    (_re(r"(?:noto|vio|encontro|corrigio|corrigieron|arreglo|arreglaron|encontraron) "
         r"(?:un|el|mi|los|unos) (?:\w+ )?(?:error|errores|problema|detalle)"), 1.2),
    (_re(r"(?:no hay|no hubo|sin|no tengo|ninguna|ningun|cero) (?:problemas?|fila|espera|quejas?|"
         r"complicaciones|contratiempos|inconvenientes)"), 0.6),
]  # fmt: skip

CONTRAST = re.compile(
    r"(?:^|\s)(pero|sin embargo|no obstante|excepto|salvo|al final|en general|de todos modos|"
    r"de todas formas|aun asi|igual ,|total que|por suerte|gracias a dios|lamentablemente|"
    r"desafortunadamente|por desgracia|lo bueno|lo malo|but|however)(?=\s|$)"
)
CONCESSION = re.compile(r"(?:^|\s)(aunque|a pesar de|si bien|pese a|although|though)\s")
NOTHING = frozenset(
    "no nada mas que agregar decir anadir comentar comentarios comentario sin ningun ninguno "
    "ninguna por ahora el momento eso es todo fue pues na n/a tengo otro otra algo de este "
    "esta vez gracias muchas ok".split()
)
NOTHING_CORE = frozenset("no nada ningun ninguno ninguna sin n/a na eso".split())


_STARS = {"cero": 0, "ninguna": 0, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4,
          "cinco": 5}  # fmt: skip


RATINGS: list[tuple[re.Pattern[str], Rating]] = [
    (re.compile(r"(?<![\w.])(\d+(?:\.\d)?) ?(?:/|de) ?(10|5|100)(?!\d)"), out_of),
    (
        re.compile(r"(?<!\w)(\d|cero|ninguna|una|un|dos|tres|cuatro|cinco) estrellas?(?!\w)"),
        stars(_STARS),
    ),
    (re.compile(r"(?<!\w)le (?:doy|pongo) (?:un )?(\d+)()(?!\w)"), out_of),
]
IRONY = re.compile(
    r"(?:^|[.!?] )(?:ah |ay |oh |uy )?(?:que bien|que bonito|que lindo|que detalle|que suerte|"
    r"que maravilla|que eficiencia|que rapidez|que seguridad|que chevere|bravo|felicidades|"
    r"perfecto|excelente|genial|increible|impresionante|claro|buenisimo|super|muy bien|"
    r"muchas gracias por|que buen|que buena|si) \S+|, (?:brillante|genial|excelente|perfecto|"
    r"bravo|que bien|maravilloso) ?[.!]* ?$"
    r"|nada como|lo mejor (?:del dia|fue|de todo)|me (?:encanto|fascino|gusto mucho|encanta|"
    r"fascina) (?:pedir|esperar|llenar|hacer|manejar|que me|tener|estar|perder|ir|llamar|"
    r"repetir)|super (?:util|rapido|eficiente|facil)|muy (?:util|eficiente|facil|seguro)|"
    r"que (?:eficiencia|rapidez|seguridad)|rapidisimo el|facilisimo|me (?:encanta|encanto|"
    r"fascina|fascino) (?:que|como|cuando)|felicidades al|que (?:amables|eficientes|rapidos|"
    r"atentos|organizados|profesionales|buen servicio|bien)|bien facil|muy facil|super facil|"
    r"que facil|yay|gracias por"
)
SARCASM = re.compile(
    r"si como no|10 de 10 (?:volveria|lo volveria)|volveria a esperar|"
    r"gracias por (?:nada|hacerme perder|perder)|(?<!la )verdad(?: \?)? ?$|"
    r"porque todo (?:el )?mundo tiene|eyeroll|clap clap|"
    r"(?:^|\s)clap ?$|clown|que (?:chiste|broma|burla)|ja ja"
)
QUESTION = re.compile(
    r"^\s*(?:\u00bf|como|cuando|donde|cual|cuanto|cuanta|que hora|se puede|hay |abren|puedo|"
    r"tienen|necesito saber|quien|es posible|me pueden|pueden|podrian|esta encuesta)\b|\?\s*$|"
    r"no (?:se|sabemos|sabia) (?:si|cuando|que|como)|quiero saber si|quisiera saber"
)
SUGGESTION = re.compile(
    r"^\s*(?:por favor|deberian|seria bueno|seria mejor|estaria bien|ojala|quisiera|"
    r"quiero saber|me gustaria|sugiero|mandenme|manden|pongan|agreguen|preferiria|prefiero|"
    r"necesitamos|necesitan|hace falta|falta)\b|seria (?:bueno|mejor|bien|genial|util)|"
    r"estaria (?:bien|bueno)"
)
MIXED = re.compile(
    r"mas o menos|masomenos|regular|ni bien ni mal|unas (?:cosas )?bien y otras|bien y mal|"
    r"asi asi|ahi la llevamos|normal"
)
CLOCK = re.compile(
    r"(?<!\w)(?:a las|a la|las|desde las|hasta las|de las|tipo) (\d{1,2})(?: : (\d\d))? ?"
    r"(?:(de la tarde|de la noche|pm|p m)|de la manana|am|a m)?(?!\w)"
)

CUES = Cues(
    lexical,
    FACTS,
    NEGATORS,
    RELATIVES,
    CONTRAST,
    CONCESSION,
    NOTHING,
    NOTHING_CORE,
    RATINGS,
    IRONY,
    SARCASM,
    QUESTION,
    SUGGESTION,
    MIXED,
    CLOCK,
)
