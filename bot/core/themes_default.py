"""The default taxonomy of themes (pure data): ten themes from issue 29, each with a label and
phrases in English and Spanish, in the phrase syntax of ``bot.core.themes`` (``*`` any ending,
``#`` a number). A service's catalog entry may add phrases to these, add themes, or replace
them all."""

from __future__ import annotations

from bot.core.themes import Taxonomy, theme

WAIT_TIME = theme(
    "wait_time",
    {"en": "Wait time", "es": "Tiempo de espera"},
    {
        "en": [
            "wait", "waits", "waited", "waiting", "wait time*", "hold time*",
            "held for", "in line", "line moved", "line moves", "long line*",
            "lines are", "line starts", "line around", "line out the door",
            "queue*", "# hour*", "# minute*", "# day*", "# week*", "# month*", "# year*",
            "half an hour", "an hour", "hours", "weeks ago", "months ago", "took forever",
            "so long", "too long", "how long", "long time",
            "slow*", "fast", "faster", "fastest", "quick", "quickly", "quicker", "speedy",
            "delay*", "processing", "pending", "backlog", "still waiting", "still nothing",
            "still have not", "still has not", "still had not", "still hasnt", "still havent",
            "still no", "still says", "since january", "since february", "since march",
            "since april", "since may", "since june", "since july", "since august",
            "since september", "since october", "since november", "since december",
            "since last", "right away", "same day", "next day", "next morning",
            "in and out", "no wait", "eternity", "ages", "took so long", "taking so long",
            "takes so long", "timely", "earlier than", "sooner than",
            "turnaround", "wait room", "shorter", "longer", "short wait", "in review",
            "under review",
        ],
        "es": [
            "espera", "esperas", "espere", "esperar", "esperando", "esperamos", "esperaba",
            "esperado", "en la fila", "la fila", "fila", "filas", "cola", "# hora*",
            "# minuto*", "# dias", "# semana*", "# meses", "# ano", "# anos",
            "hora y media", "media hora", "horas", "horita*", "tardo", "tardaron", "tarda",
            "tardan", "tardado", "tardanza", "se tardaron", "se tarda", "demor*", "rapid*",
            "lento", "lenta", "lentos", "lentas", "lentitud", "retras*", "eternidad",
            "todavia no", "todavia nada", "sigo esperando", "seguimos esperando",
            "desde enero", "desde febrero", "desde marzo", "desde abril", "desde mayo",
            "desde junio", "desde julio", "desde agosto", "desde septiembre",
            "desde octubre", "desde noviembre", "desde diciembre", "en proceso",
            "pendiente", "al instante", "enseguida", "de inmediato", "el mismo dia",
            "ya van", "ya pasaron", "ni me dio tiempo",
            "volando", "se tardan", "duro", "tiempo estimado", "en revision",
            "siguen diciendo",
        ],
    },
)  # fmt: skip

WEBSITE = theme(
    "website",
    {"en": "Website and online account", "es": "Sitio web y cuenta en línea"},
    {
        "en": [
            "website*", "web site", "site", "the site", "online", "portal", "app", "apps",
            "webpage", "web page", "page", "pages", "log in", "logged in", "logged out",
            "logs me out", "logs you out", "kicks me out", "kicked me out", "password*",
            "reset", "upload*", "download*", "online account", "my account", "account locked",
            "locked out", "create an account", "sign in", "signed in", "sign up", "chatbot*",
            "chat bot", "the chat", "online chat", "chat support", "chat agent", "browser",
            "click*", "button", "screen", "screens", "crash*", "error message", "file error",
            "glitch*", "error", "errors", "web chat", "chat", "to load", "not loading",
            "page load*", "will not load", "timed out",
            "times out",
            "online form", "the form online", "fill out online", "my social security",
            "internet", "computer", "laptop", "the system", "email link", "tabs", "submit",
            "the portal", "e file", "efile",
        ],
        "es": [
            "pagina", "paginas", "pagina web", "sitio", "sitio web", "en linea", "por internet",
            "internet", "portal", "app", "la app", "compu", "computadora", "mi cuenta",
            "la cuenta", "cuenta en linea", "crear la cuenta", "crear cuenta",
            "entrar a mi cuenta", "contrasena", "clave", "subir", "subo", "subi", "archivo*",
            "descargar", "boton", "pantalla*", "se cae", "se cayo la pagina", "error",
            "se queda cargando", "cargando", "carga", "link", "enlace", "chat", "el chat",
            "chatbot", "formulario en linea", "forma en linea", "me saca", "me bota", "sesion",
            "le di atras", "se borro", "se me borro", "aplicacion del celular",
            "no puedo entrar", "puedo entrar", "entrar a la cuenta", "la cuenta en linea",
            "desde el cel", "desde el celular",
        ],
    },
)  # fmt: skip

IDENTITY = theme(
    "identity",
    {"en": "Identity verification", "es": "Verificación de identidad"},
    {
        "en": [
            "login.gov", "login gov", "id.me", "id me", "idme", "verify", "verified",
            "verifying", "verification", "identity", "prove who i am", "prove my identity",
            "proof of identity", "who i am", "selfie*", "photo id", "picture id", "my face",
            "face match*", "facial", "one time code", "code", "codes", "2 factor",
            "two factor", "2fa", "authenticat*", "security question*", "credit report",
            "id check", "in person id", "state id", "my id", "as id", "an id", "id card",
            "maiden name", "identification", "two step", "2 step", "text code",
            "verification code", "security code", "security check", "forms of id",
            "form of id", "ids",
        ],
        "es": [
            "login.gov", "login gov", "id.me", "id me", "idme", "verifica*", "verificar",
            "verificarme", "verifique", "identidad", "identificacion", "quien soy",
            "que soy yo", "probar que soy", "selfie", "la cara", "mi cara", "reconoce la cara",
            "codigo", "codigos", "dos pasos", "2 pasos", "preguntas de seguridad",
            "matricula consular", "mi id", "una id", "identificaciones", "como prueba",
            "prueba de identidad", "la foto", "otra foto", "foto sosteniendo",
            "escanear la licencia",
            "como identificacion",
        ],
    },
)  # fmt: skip

PHONE = theme(
    "phone",
    {"en": "Phone line", "es": "Línea telefónica"},
    {
        "en": [
            "the phone", "phone line*", "phone number", "i called", "called them", "called the",
            "called back", "called twice", "called # times", "call back", "callback",
            "calling", "call center", "phone call", "the call",
            "my call", "a call", "calls", "call dropped", "hung up", "hang up", "hangs up",
            "on hold", "hold music", "phone line", "the line says", "help line", "helpline",
            "hotline", "1 800 number", "the 1 800", "a 1 800", "800 number", "toll free",
            "the number", "automated", "menu",
            "press #", "pressed #", "pressed", "recording", "voicemail", "voice mail",
            "rings", "ringing", "busy signal", "disconnected", "transferred",
            "transfer*", "nobody answers", "no one answers", "nobody picks up",
            "no one picks up", "pick up the phone", "picked up the phone", "anyone picked up",
            "answered the phone", "on the phone", "over the phone", "by phone",
            "telephone", "line just went dead", "went dead", "voice call", "calling back",
            "call me back", "the woman who answered", "the man who answered", "who answered",
            "hold time*", "on hold", "put on hold", "hold music", "the rep", "a rep",
            "reached", "got through", "get through", "someone to pick up",
            "anyone to pick up", "to pick up the phone", "same call", "spanish line",
            "call you back", "call us back", "calls back",
            "english line", "voicemails", "call volume",
        ],
        "es": [
            "por telefono", "al telefono", "el telefono", "telefono de", "los telefonos",
            "ese telefono", "llame", "llamo", "llamada*", "llamar", "llamando",
            "me llamaron", "me llamo", "la linea", "una linea", "esa linea", "linea de",
            "linea en", "en espera", "musica", "musiquita", "colg*",
            "cuelga", "se corto", "se cae la llamada", "nadie contesta", "al 1 800",
            "llamara", "q llame", "que llame", "transfier*", "transfirio", "contesta",
            "contestan", "contestaron", "me contesto",
            "nadie contest*", "no contest*", "contestara", "ocupado", "suena ocupado",
            "timbra*", "grabacion", "sistema automatico", "menu", "marque",
            "marcar", "oprima", "buzon", "mensajes de voz", "en espera en el telefono",
            "call center", "devolvieron la llamada",
            "operador*", "el numero", "por telefono", "al telefono", "el 1 800",
        ],
    },
)  # fmt: skip

STAFF = theme(
    "staff",
    {"en": "Staff", "es": "Personal"},
    {
        "en": [
            "staff", "employee*", "worker*", "clerk*", "agent", "agents", "officer*",
            "caseworker*", "case worker*", "case manager*", "social worker*",
            "representative*", "rep", "reps", "the lady", "lady", "the guy", "guy", "man at",
            "woman", "the man", "gentleman", "ma am", "sir", "ms", "mr", "mrs", "miss",
            "she was", "he was", "everyone", "everybody", "the people",
            "personnel", "supervisor*", "manager", "receptionist", "front desk", "guard",
            "security guard", "nurse*", "doctor", "volunteer*", "interviewer", "counselor",
            "advisor", "specialist", "teller", "polite", "rude", "friendly", "kind",
            "courteous", "professional", "respectful", "knowledgeable", "attitude",
            "rolled her eyes", "rolled his eyes", "treated", "sweetheart", "angel", "hero",
            "deserves a raise", "apologized", "customer service", "patient with", "so patient",
            "helpful", "dude", "whoever", "the person",
            "person at", "disrespectful", "impatient", "sweet", "nice people", "good people",
            "real one", "goated",
        ],
        "es": [
            "personal", "empleado*", "empleada*", "trabajador", "trabajadores",
            "trabajadora social", "agente", "agentes", "oficial", "oficiales", "funcionari*",
            "senora", "senor", "senorita", "muchacha", "muchacho", "chica", "chico",
            "licenciad*", "guardia", "guardias", "recepcionista", "supervisor*", "doctor*",
            "enfermer*", "voluntari*", "la de la ventanilla", "el de la ventanilla",
            "amable*", "groser*", "malcriad*", "paciencia", "pacient*", "respetuos*",
            "atent*", "me trato", "nos trato", "me trataron", "nos trataron", "me atendio",
            "me atendieron", "carinos*", "humano", "humana", "buena gente", "ignorante",
            "maleducad*", "el pana", "la senora", "el senor", "la empleada", "asesor*",
            "la que me atendio", "el que me atendio", "quien me atendio",
            "el oficial", "la oficial", "trato", "la agente", "el agente", "sonrisa",
            "recepcion",
        ],
    },
)  # fmt: skip

PAPERWORK = theme(
    "paperwork",
    {"en": "Paperwork and mail", "es": "Documentos y correo"},
    {
        "en": [
            "document*", "paperwork", "papers", "paper", "form", "forms", "letter*", "mail",
            "mailed", "mailing", "in the mail", "by mail", "the notice", "notice*",
            "birth certificate", "certificate*", "proof of", "pay stub*", "bank statement*",
            "copy", "copies", "fax*", "signature", "signed", "stamp", "court order", "records",
            "my file", "original", "i 90", "i 765", "i 130", "i 485", "1099", "w 2",
            "transcript", "envelope", "postal", "print", "printed", "printer",
            "paper application", "application form", "ssn card", "medicare card", "green card",
            "social security card", "replacement card", "new card", "card came",
            "card in the mail", "card still", "mailbox",
            "post office", "supporting documents", "instructions on the letter", "pdf*",
            "notariz*", "notary", "utility bill", "dd 214",
        ],
        "es": [
            "document*", "papel", "papeles", "papeleo", "formas", "una forma",
            "llenar la forma", "formulario*", "planilla*", "solicitud*", "carta*", "el correo",
            "por correo", "aviso", "acta de nacimiento", "acta", "certificado*",
            "comprobante*", "recibo*", "copia*", "fax", "firma*", "firmar", "firme",
            "expediente", "papeles", "tarjeta del seguro", "tarjeta de seguro",
            "tarjeta de medicare",
            "tarjeta de residencia", "tarjeta nueva", "la tarjeta llego", "apostillad*",
            "el sobre", "i 94", "i 765", "i 130",
            "i 485", "i 90", "transcript", "w 2", "imprimir", "impresora", "pasaporte",
            "traducir el acta", "los papeles", "correo postal", "pdf*", "notari*",
            "recibo de luz", "acta de matrimonio", "me lleno la forma", "lleno la forma",
        ],
    },
)  # fmt: skip

COMMUNICATION = theme(
    "communication",
    {"en": "Communication and updates", "es": "Comunicación y avisos"},
    {
        "en": [
            "status", "update", "updates", "updated me", "updated by", "kept updated",
            "kept me updated", "informed", "inform*",
            "explain*", "explanation", "clear", "clarity", "unclear", "confus*",
            "no one can tell me", "nobody can tell me", "tell me", "told me", "different answers",
            "contradict*", "opposite", "one said", "the next said", "next one said",
            "another said", "different things", "on one page", "did not tell me",
            "no notice", "without notice", "heads up", "notif*", "by text",
            "texts", "texted", "text message*", "reminder*", "follow up",
            "followed up", "hear back", "heard back", "no response", "response",
            "respond*", "no answers", "straight answer", "information", "instructions",
            "what to do next",
            "next steps", "what is happening", "no idea", "in the dark", "keep me posted",
            "communicat*", "knew exactly", "no explanation", "never says", "does not say",
            "doesnt say", "says approved", "step 2", "in review", "kept me", "let me know",
            "letting me know", "no word", "heard nothing", "i could not understand",
            "i did not understand", "i do not understand", "hard to understand", "jargon",
            "plain words",
            "plain language", "without telling", "never told", "two different", "told us",
            "tell us", "let us know", "what it means", "actually means", "generic", "canned",
            "an email", "by email", "emailed", "email when", "email updates",
            "different deadline*", "did not say", "does not say", "supposed to do",
        ],
        "es": [
            "estatus", "status", "estado de mi", "actualiz*", "informacion", "informad*",
            "me avisaron", "avisaron", "avisan", "avis*", "explic*", "claro", "clarito",
            "confus*", "no se si", "nunca se", "nadie me dice", "nadie explica",
            "nadie me explica", "dicen que", "una cosa", "un correo", "sabe decir",
            "saben decir", "nadie sabe", "montos diferentes", "respuestas diferentes",
            "respuestas distintas", "diferente cada vez",
            "no la entendi", "no entendi", "palabras sencillas", "sin avisarme",
            "fechas distintas", "fechas limite", "cosas distintas",
            "respuesta*", "mensaje*", "texto*", "correo electronico", "email", "recordatorio*",
            "al tanto", "comunicacion", "instrucciones", "que seguia", "que sigue",
            "en que va", "en que paso va", "no dice", "me contesta los mensajes",
            "sin explicar", "sin avisar", "no avisaron",
        ],
    },
)  # fmt: skip

MONEY = theme(
    "money",
    {"en": "Payments and benefits", "es": "Pagos y beneficios"},
    {
        "en": [
            "payment*", "to pay", "pay the", "pay a", "pay for", "pay back", "pay me",
            "paid", "paying", "payout", "refund*", "fee", "fees", "charge*",
            "charged", "benefit amount", "benefits", "the check", "my check", "a check",
            "paper check", "checks", "deposit*", "direct deposit", "$", "dollar*", "money",
            "owe", "owed", "debt*", "overpayment", "back pay", "premium*", "cost*", "afford",
            "snap", "ebt", "tax refund", "tax credit", "a credit", "amount", "penalty", "price",
            "expensive", "cheaper", "reimburse*", "stipend", "loan*", "grant", "wic",
            "benefit", "allowance",
        ],
        "es": [
            "pago*", "pagar", "pague", "pagaron", "reembolso*", "cuota*", "cobr*", "cargo*",
            "cheque*", "deposit*", "dinero", "dolar*", "dolares", "$", "deuda*", "debo",
            "multa*", "prima de", "la prima", "beneficios", "cupones", "snap", "ebt",
            "retroactivo", "monto", "cantidad", "cuesta", "costo", "caro", "gratis",
            "descuent*", "ayuda economica", "renta", "alcanza", "seccion 8", "wic",
            "ssi", "me quitan", "cuanto me van", "recargo*", "sobrepago", "cargo por",
        ],
    },
)  # fmt: skip

APPOINTMENTS = theme(
    "appointments",
    {"en": "Appointments and the office", "es": "Citas y la oficina"},
    {
        "en": [
            "appointment*", "schedul*", "reschedul*", "slot*", "booking", "book", "booked",
            "cancel*", "walk in", "walked in", "walk ins", "walkin*", "office hours", "open",
            "opens", "opening time", "closes", "closed", "closing", "the office", "this office",
            "that office", "office closes", "office opens", "office moved", "building",
            "waiting room", "waiting area", "chairs", "seats", "seat",
            "parking", "parking lot", "security line", "metal detector", "entrance", "door",
            "location", "signs", "bathroom*", "restroom*", "clean", "dirty", "crowded",
            "check in", "checked in", "saturday*",
            "evening hours", "weekend*", "clinic", "field office", "the room", "hallway",
            "loading dock", "around back", "the door", "front door", "air conditioning",
            "different office", "another office", "elevator*", "stairs", "upstairs",
            "lobby",
        ],
        "es": [
            "cita*", "turno*", "agend*", "reprogram*", "cancel*", "la oficina es",
            "la oficina esta", "la oficina tiene", "oficina abre", "oficina cierra",
            "esa oficina", "esta oficina", "la oficina bien", "oficina nueva", "edificio",
            "sala de espera", "la sala", "sillas", "asientos", "parqueo", "estacionamiento",
            "parking", "entrada", "horario*", "abren", "cierra*", "cerrad*",
            "sabado*", "en persona", "una sola ventanilla", "ventanillas", "banos", "bano",
            "limpi*", "sucio*", "detector de metales", "pasillo", "aire acondicionado",
            "clinica", "el lugar", "appointment", "otra oficina", "oficina impecable",
            "oficina limpia", "oficina sucia", "oficina chiquita", "oficina llena",
            "elevador", "escaleras", "lobby", "estacionarse", "abre solo", "solo abre",
            "abren los", "abre los", "regresar otro dia", "volver otro dia",
        ],
    },
)  # fmt: skip

LANGUAGE_ACCESS = theme(
    "language_access",
    {"en": "Language and disability access", "es": "Idioma y accesibilidad"},
    {
        "en": [
            "interpreter*", "translator*", "translat*", "spanish", "in english",
            "english only", "only english", "speak english", "language*", "creole",
            "vietnamese", "chinese", "mandarin", "cantonese", "korean", "arabic", "russian",
            "tagalog", "k iche", "kiche", "quiche", "mixteco", "mixtec", "asl",
            "sign language", "deaf", "blind", "low vision", "large print", "braille",
            "wheelchair*", "accessible", "accessibility", "ramp", "hearing", "audio",
            "captions", "bilingual", "press 2", "espanol", "english recording", "walker",
            "cane", "mobility", "hard of hearing", "can not hear",
            "english ones", "in spanish", "read english", "speaks english", "only speaks",
            "but english", "only in english", "speak spanish", "spoke spanish",
        ],
        "es": [
            "interprete*", "traductor*", "traduc*", "espanol", "en ingles", "ingles",
            "idioma*", "lengua", "quiche", "mixteco", "mam", "creole", "criollo",
            "lenguaje de senas", "senas", "sordo*", "ciego*", "silla de ruedas", "rampa",
            "discapacidad", "letra grande", "accesib*", "acomodo", "bilingue", "autismo",
            "hablan espanol", "habla espanol", "hablara espanol", "solo leo espanol",
            "no oigo", "no escucho bien", "andador", "baston",
        ],
    },
)  # fmt: skip

DEFAULT = Taxonomy(
    (WAIT_TIME, WEBSITE, IDENTITY, PHONE, STAFF, PAPERWORK, COMMUNICATION, MONEY,
     APPOINTMENTS, LANGUAGE_ACCESS)
)  # fmt: skip
