"""What the sentiment scorer looks for in English comments (pure data and one word scorer).

All patterns match text made plain by ``bot.core.shorthand`` (lower case, contractions
written out: "did not", "can not"; "appt" -> "appointment", "hrs" -> "hours"). They are general
shapes of praise and complaint about a service, not phrases of any labelled set: waiting counted
in hours, "still ... not", "never" + an arrival, "nobody" + an answer, a count of visits, a
locked account; "in 10 minutes", "same day", "got my card", "walked me through".
"""

from __future__ import annotations

import re

from bot.core.cues import Cues, Rating, out_of, stars
from bot.core.cues import bounded as _re
from bot.core.pattern import pattern_sentiment, pattern_words

NEGATORS = frozenset(
    "not no never nothing none neither nor without hardly barely nobody cannot".split()
)
# Someone close, whose help is no praise of the service ("my daughter helped me fill it out").
RELATIVES = frozenset(
    "daughter son wife husband mom mother dad father sister brother grandson granddaughter "
    "niece nephew friend neighbor neighbour cousin aunt uncle grandma grandpa kid kids "
    "boyfriend girlfriend partner roommate".split()
)
INTENSIFIERS = frozenset(
    "very so really super extremely incredibly truly mad hella way too".split()
)

# Words TextBlob does not know (or weighs wrongly) in comments about a service, slang included.
LEXICON: dict[str, float] = {
    # praise
    "helpful": 0.6, "unhelpful": -0.6, "help": 0.3, "helped": 0.5, "thanks": 0.5,
    "thank": 0.5, "appreciate": 0.5, "appreciated": 0.5, "grateful": 0.6, "thankful": 0.6,
    "pleased": 0.5, "satisfied": 0.5, "quick": 0.4, "quickly": 0.4, "fast": 0.4,
    "speedy": 0.5, "prompt": 0.4, "efficient": 0.5, "smooth": 0.5, "smoothest": 0.7,
    "painless": 0.6, "seamless": 0.6, "convenient": 0.5, "straightforward": 0.5,
    "courteous": 0.6, "professional": 0.5, "respectful": 0.5, "respected": 0.5,
    "compassionate": 0.6, "caring": 0.5, "considerate": 0.5, "accommodating": 0.5,
    "knowledgeable": 0.5, "thorough": 0.4, "attentive": 0.5, "responsive": 0.4,
    "organized": 0.4, "clean": 0.3, "resolved": 0.5, "solved": 0.5, "fixed": 0.4,
    "answered": 0.3, "dignity": 0.5, "sweetheart": 0.6, "lifesaver": 0.8, "hero": 0.6,
    "angel": 0.6, "blessing": 0.6, "bless": 0.5, "blessed": 0.5, "superb": 0.8,
    "outstanding": 0.8, "slay": 0.6, "slayed": 0.6, "dub": 0.5, "immaculate": 0.7,
    "a1": 0.6, "cringe": -0.6, "ratchet": -0.6, "bogus": -0.6, "ick": -0.5, "oof": -0.4,
    "ghosted": -0.6, "gatekeeping": -0.5, "gatekept": -0.5, "gem": 0.6, "ruined": -0.8,
    "ruin": -0.7, "ruins": -0.7, "janky": -0.6,
    "jank": -0.5, "busted": -0.6, "wonky": -0.5, "yelling": -0.6, "yelled": -0.6,
    "screaming": -0.6, "screamed": -0.6, "shouting": -0.6, "shouted": -0.6, "circus": -0.7,
    "zoo": -0.6, "madhouse": -0.7, "shitshow": -0.9,
    "impersonal": -0.5, "cold": -0.3, "horror": -0.8, "horrific": -0.8, "apologized": 0.1,
    "phenomenal": 0.8, "stellar": 0.7, "kudos": 0.6, "props": 0.5,
    "respect": 0.4, "informative": 0.4, "friendly": 0.5, "kind": 0.5, "patient": 0.5,
    "polite": 0.5, "easy": 0.4, "easier": 0.4, "easiest": 0.6, "simple": 0.3,
    "recommend": 0.4, "worth": 0.3, "relieved": 0.5, "relief": 0.5, "glad": 0.4,
    # slang (the survey's English set writes "regional" for it)
    "goated": 0.8, "goat": 0.6, "bussin": 0.7, "lit": 0.5, "fire": 0.5, "slaps": 0.6,
    "clutch": 0.7, "solid": 0.4, "legit": 0.4, "dope": 0.6, "elite": 0.6, "valid": 0.3,
    "vibe": 0.4, "vibes": 0.4, "cooked": 0.3, "ate": 0.3, "w": 0.4, "mvp": 0.7,
    "rockstar": 0.7, "chef": 0.3, "ups": 0.3, "shoutout": 0.5, "shout": 0.2,
    "mid": -0.6, "sus": -0.6, "salty": -0.6, "cap": -0.5, "trash": -0.8, "garbage": -0.8,
    "yikes": -0.6, "bruh": -0.2, "ugh": -0.5, "meh": -0.3, "bleh": -0.4, "sketchy": -0.5,
    "shady": -0.6, "clown": -0.6, "clowns": -0.6, "joke": -0.6, "l": -0.3, "sucks": -0.7,
    "sucked": -0.7, "eyeroll": -0.6, "attitude": -0.5, "wack": -0.6, "whack": -0.5,
    # complaints
    "rude": -0.6, "slow": -0.4, "forever": -0.6, "waiting": -0.3, "waited": -0.3,
    "wait": -0.1, "hold": -0.2, "confusing": -0.6, "confused": -0.5, "frustrating": -0.7,
    "frustrated": -0.6, "crash": -0.5, "crashed": -0.5, "crashing": -0.5, "broken": -0.6,
    "error": -0.4, "errors": -0.4, "glitch": -0.5, "glitchy": -0.5, "lost": -0.4,
    "delay": -0.5, "delayed": -0.5, "delays": -0.5, "complicated": -0.5,
    "impossible": -0.6, "useless": -0.8, "waste": -0.6, "nobody": -0.4, "ignored": -0.6,
    "unanswered": -0.5, "runaround": -0.6, "annoyed": -0.5, "annoying": -0.5,
    "angry": -0.6, "mad": -0.4, "upset": -0.6, "disappointed": -0.6, "disappointing": -0.6,
    "hung": -0.3, "denied": -0.4, "rejected": -0.4, "redundant": -0.4, "outdated": -0.4,
    "unacceptable": -0.8, "ridiculous": -0.7, "nightmare": -0.8, "disaster": -0.8,
    "mess": -0.6, "hassle": -0.5, "headache": -0.5, "ordeal": -0.6, "maze": -0.5,
    "clunky": -0.5, "stressed": -0.5, "stressful": -0.6, "stress": -0.4,
    "unprofessional": -0.7, "incompetent": -0.8, "disrespectful": -0.7, "dismissive": -0.6,
    "condescending": -0.7, "impatient": -0.6, "careless": -0.6, "lazy": -0.6,
    "outrageous": -0.7, "insulting": -0.7, "humiliating": -0.7, "disgrace": -0.8,
    "pathetic": -0.8, "scam": -0.7, "unfair": -0.6, "exhausting": -0.6, "exhausted": -0.5,
    "overwhelmed": -0.4, "crowded": -0.4, "dirty": -0.5, "filthy": -0.7, "misleading": -0.6,
    "contradictory": -0.6, "inconsistent": -0.5, "unclear": -0.5, "tedious": -0.5,
    "cumbersome": -0.5, "inconvenient": -0.5, "unreliable": -0.6, "unreachable": -0.6,
    "never": -0.2, "again": -0.1,
}  # fmt: skip

_N = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|several|many|few|a few|a couple of|couple|couple of)"
)
_MANY = r"(?:[2-9]|\d\d+|two|three|four|five|six|seven|eight|nine|ten|several|multiple|many)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
)
_THING = (
    r"(?:card|passport|refund|check|payment|benefits?|license|id|green card|permit|ssn|"
    r"money|deposit|approval|visa|ead|stamp|decision|"
    r"appointment|snap|ebt|medicare card|social security card|tax refund|back pay|"
    r"replacement|renewal|application|case|claim|paperwork|account)"
)


# Facts: plainly bad (negative weight) or good (positive) events, with no sentiment word needed.
FACTS: list[tuple[re.Pattern[str], float]] = [
    # waiting counted in hours, days, months; "since march"
    (_re(r"(?:wait(?:ed|ing)?|on hold|hold|in line|sat|sitting|stood|standing|spent|stuck|"
         r"took|taking|takes|been|over|almost|nearly|for|after)(?: \S+){0,3} " + _N
         + r" (?:\+ |or more )?(?:hours?|days|weeks|months|years)"), -0.7),
    (_re(r"(?:wait(?:ed|ing)?|on hold|hold|in line|for|over|after|almost|nearly)(?: \S+){0,2} "
         r"(?:[3-9]\d|\d{3}) (?:\+ )?minutes"), -0.6),
    (_re(r"(?<!in )(?<!within )(?<!under )(?<!than )(?<!24 )" + _N
         + r" (?:\+ )?(?:hours|hour)(?! (?:later|early|before))"), -0.4),
    (_re(r"since " + r"(?:" + _MONTH + r"|last (?:year|month|week|spring|summer|fall|winter)"
         r"|\d{4}|the (?:spring|summer|fall|winter)|then|forever)"), -0.6),
    (_re(_N + r" (?:weeks|months|years) (?:ago|now|later|and counting|and still|in)"), -0.5),
    (_re(r"(?:weeks|months|years) (?:ago|now|later)"), -0.3),
    (_re(r"still (?!deciding|thinking|not sure|unsure)(?:not|no|nothing|waiting|pending|"
         r"have not|has not|had not|do not|does not|"
         r"did not|can not|could not|will not|is not|are not|says|shows|in review|processing|"
         r"on hold|wrong|broken|denied|missing|lost|stuck|the same|have no|has no|waiting on|"
         r"no word|have yet|has yet|unresolved|locked|owe|charging|getting|being|says)"), -0.8),
    (_re(r"(?:yet to|nothing yet|no word yet|and nothing|still nothing|nothing happened|"
         r"nothing has (?:happened|changed|arrived)|nothing changed)"), -0.6),
    # never, nobody, no answer
    (_re(r"never (?:arrive[sd]?|came|comes?|got|gets?|received|receives?|showed|shows|"
         r"answer(?:ed|s)?|call(?:ed|s)?|heard|respond(?:ed|s)?|repl(?:ied|ies)|work(?:ed|s)?|"
         r"load(?:ed|s)?|return(?:ed|s)?|picked|picks|told|tells|explained|says|said|"
         r"happened|fixed|updated|back|again|sent|mailed|processed|showed up|actually|when|"
         r"once|even|made it|reached|went through|goes through|got through|gets through|"
         r"heard back|hear back|get back|got back)"), -0.9),
    (_re(r"(?:nobody|no one|noone|no body|no human|not a single person|not one person|"
         r"not a soul)"), -0.6),
    (_re(r"no (?:response|answer|reply|callback|call back|calls back|update|updates|"
         r"explanation|word|help|interpreter|one|idea|clue|way|information|signal|record|"
         r"records|chairs|seats|signs|signage|parking|bathroom|water|ac|air conditioning|"
         r"human|person|reason|notice|warning|follow up|followup|communication|contact|letter|"
         r"email|text|heads up|call|phone call|explanation|apology|"
         r"progress|results?|luck|change|options?|spanish|translator)"), -0.6),
    (_re(r"(?:is|was) (?:anyone|anybody) (?:even|there|working|reading|looking)"), -0.6),
    # again and again
    (_re(_MANY + r" (?:times|visits|trips|calls|attempts|tries|transfers|different|separate|"
         r"phone calls|letters|people|agents|offices|departments)"), -0.6),
    (_re(r"(?:second|2nd) (?:time|visit|trip|call|attempt|letter|try|request|appointment)"),
     -0.08),
    (_re(r"(?:third|3rd|fourth|4th|fifth|5th|sixth|6th|nth|umpteenth|tenth) "
         r"(?:time|visit|trip|call|attempt|letter|try|request|appointment)"), -0.7),
    (_re(r"(?:twice|over and over|again and again|all over again|back to square one|"
         r"square one|from scratch|from zero|start over|started over|starting over|"
         r"round and round|in circles?|in a circle|in a loop|the runaround|run around|"
         r"back and forth|from one (?:office|person|department|window|line) to another|"
         r"passed around|bounced around|transferred around)"), -0.7),
    (_re(r"(?<!thanks )(?<!thank you )again(?! thank)(?! thanks)"), -0.3),
    (_re(r"different (?:answers|stories|things|information|instructions|numbers|story)"), -0.7),
    # things that failed
    (_re(r"(?:locked out|(?:kicks?|kicked|logs?|logged|kicking|logging) (?:me|you|us|"
         r"people)? ?out|timed out|"
         r"times out|went dead|goes dead|line (?:just )?died|dropped|drops|disconnected|"
         r"hung up|hangs up|cut off|crash(?:ed|es|ing)?|froze|freezes|frozen|glitch\w*|"
         r"errors?|bug|buggy|not working|does not work|did not work|do not work|"
         r"doesnt work|fail(?:ed|s|ing|ure)?|reject(?:ed|s)?|denied|declined)"), -0.7),
    (_re(r"(?:kept|keeps|keep) (?:\w+ing|saying|asking|telling|sending|failing|dropping|"
         r"crashing|freezing|logging|kicking|timing|rejecting|losing|giving|putting me|"
         r"me on hold|me waiting|transferring)"), -0.6),
    (_re(r"(?:would not|will not|wont|could not|can not|unable to|not able to) (?:let|accept|"
         r"load|work|take|open|log|sign|get|finish|find|access|reach|upload|verify|see|pay|"
         r"afford|read|understand|talk|speak|submit|use|move|reset|change|do|figure|help|"
         r"match|recognize|scan|connect|go|even|tell|explain|give|answer|call|leave|fix|"
         r"make|receive|track|check|print|file|apply|download|complete|continue|proceed|"
         r"register|create|confirm|schedule|book)"), -0.6),
    (_re(r"(?:lost|misplaced|shredded|threw out|lose|losing) (?:my|the|our|his|her|all|"
         r"their|me)"), -0.8),
    (_re(r"(?:wrong|incorrect|mistakes?|mix(?:ed)? up|messed up|screwed up|typos?|"
         r"misspelled|spelled \w+ (?:\w+ )?wrong)"), -0.6),
    (_re(r"(?:cancel+ed|cancel+ing|resched\w+ without|out of order|ran out|out of stock|"
         r"turned (?:me )?away|sent (?:me )?(?:home|away|back)|to be told|only to|just to|"
         r"overcharged|charged (?:me )?twice|double charged|short staffed|"
         r"understaffed|short handed|one (?:clerk|person|window|agent|worker|employee|lady|"
         r"guy) (?:for|working|open|at)|only (?:one|1) (?:clerk|person|window|agent|worker|"
         r"employee|lady|guy|line)|missed (?:work|a day|my|the)|(?:day|days) off work|"
         r"off work|lost (?:a day|wages|pay|work)|took (?:a|the) day off|unpaid|"
         r"no longer|stopped (?:my|paying|coming|working|the)|cut (?:my|off)|"
         r"owe|overpayment|penalty|penalized|late fee|garnish\w*|closed (?:early|at)|"
         r"closes at|long line|long lines|too long|"
         r"too (?:slow|many|much|complicated|hard|far|confusing|long|small|late|early)|"
         r"way too|not enough|not even|not once|for nothing|what is the point|"
         r"why (?:do|does|did|is|are|was|would|can|should|can not|does not|do not|is not|"
         r"would not) (?:i|it|this|they|nobody|no one|the|you|we|a|my)|how is (?:it|this)|"
         r"who designed|who thought|pulled back|pulling (?:them |it )?back|taking (?:it )?back|"
         r"took (?:it )?back)"), -0.5),
    (_re(r"(?:had|have|has|needed) to (?:go back|come back|call back|call again|come in again|"
         r"explain|repeat|re\w+|upload|resubmit|resend|mail|send|bring|take (?:off|a day|time)|"
         r"miss|leave|wait|drive|pay|print|fax|start|fill|stand|sit|ask|beg|fight|keep|"
         r"write|find out|figure|go to|go in|make|travel|chase|track|call|hang up|prove|"
         r"show|give up|borrow|get someone|get my|use)"), -0.08),
    (_re(_N + r" (?:months|years|weeks) (?:for|to get|to process|to answer|to hear|just to|"
         r"to fix|to approve|to review)"), -0.6),
    (_re(r"could (?:have been|be|of been) (?:better|worse|improved)|room for improvement|"
         r"needs? (?:work|improvement|improving|to improve|to be fixed)|leaves? a lot to be "
         r"desired|not (?:the )?(?:best|great)|(?:was|were|is) not (?:\w+ )?(?:good|great|"
         r"helpful|clear|easy)"), -0.5),
    (_re(r"(?:the same|same old|same) (?:thing|things|answer|answers|script|faq|info|"
         r"information|"
         r"questions?|forms?|documents?|papers|story|message|letter|recording|runaround|"
         r"pay stubs|stuff|problem|issue|error|mistake|guy|person|agent|lady)"), -0.5),
    (_re(r"(?:did not|does not|do not|would not|will not|never even) (?:look|check|listen|read|"
         r"care|bother|explain|call|help|show|answer|return|tell|let|give|send|respond|reply|"
         r"update|process|pick|know|seem|even|accept|work|load|arrive|come|get back|follow|"
         r"notify|inform|warn|record|file|fix|correct|match|recognize|believe|understand|"
         r"speak|have (?:any|anyone|a clue|an interpreter|my|the))"), -0.5),
    (_re(r"(?:line|lines|queue)(?: \S+){0,3} (?:out the door|around the block|"
         r"down the street|outside|to the parking lot|into the street)"), -0.6),
    (_re(r"(?:windows|counters|lanes|stations|desks|booths) (?:were |was |are )?(?:closed|"
         r"empty|unmanned|unstaffed)|closed|closing"), -0.3),
    (_re(r"(?:applied|filed|submitted|sent|mailed|called|started|requested|asked|paid|"
         r"reported|moved|had)(?: \S+){0,3} (?:in|on|back in|since|during) (?:" + _MONTH
         + r"|\d{4}|last (?:year|month|spring|summer|fall|winter))"), -0.5),
    (re.compile(r"(?<!\w)(\w{3,}) (?:and|&) \1(?!\w)"), -0.6),
    (_re(r"(?:come back|coming back|return) (?:tomorrow|another|next|later|again)|to come back|"
         r"told me to (?:go|call|come)"), -0.08),
    (_re(r"(?:check|payment|deposit|benefits?|refund|amount|it|snap|ssi) (?:was|were|came|is|"
         r"came up|comes up|are) short|short (?:\$ )?\d+|"
         r"less than (?:before|last|what|i was)"), -0.5),
    (_re(r"(?:does|did|do) nothing|nothing (?:happens|happened|loads|works|worked)"), -0.7),
    (_re(r"something different|(?:different|another) (?:thing|answer|story) (?:every|each)|"
         r"every (?:agent|person|time|one) (?:tells|says|gives)"), -0.6),
    (_re(r"stopped|(?:do not|did not) know why|no idea why|not sure why|without (?:a |any )?"
         r"(?:reason|explanation|notice|warning)"), -0.4),
    (_re(r"another (?:form|forms|letter|call|trip|visit|survey|wait|line|hour|delay|password|"
         r"appointment|document|requirement|month|week|office|number|code|step)|more forms"),
     -0.3),
    (_re(r"(?:someone|somebody) else'?s? problem|another (?:office|department|agency)'?s? "
         r"(?:problem|job)|not (?:our|my|their) (?:problem|department|job)|pass(?:ed|ing)? the "
         r"buck|blame (?:each other|another)|makes no sense|does not make (?:any )?sense|"
         r"no sense"), -0.6),
    (_re(r"(?:not|was not|is not|wasnt) (?:in|on) (?:the|their) system|(?:to|at) (?:my|the) old "
         r"(?:address|house|number|phone|bank)|(?:says|tells|told) (?:me |you |us )?to (?:\" )?"
         r"(?:call|visit|go|check|contact|email|write)"), -0.5),
    (_re(r"(?:not|never|without) (?:get|getting|got|be|being) paid|i guess i will just|"
         r"guess i will|in front of everyone|yelled|screamed|raised (?:her|his) voice|"
         r"(?:\d+(?:st|nd|rd|th)|second|third|fourth|fifth|sixth) (?:month|week|year|day|time) "
         r"in a row|in a row|(?:is|was|are|were|came|arrived|comes) late|late (?:again|payment|"
         r"check|deposit)|not in a good way|hung up on"), -0.6),
    (_re(r'" (?:processing|in review|pending|under review|received|in process|in progress|'
         r'important|optional|available|urgent|system update|check|soon) "'), -0.6),
    (_re(r"big l|took an l|took the l|an l"), -0.6),
    (_re(r"big w|took the w|a w|huge w"), 0.6),
    (_re(r"at best|(?:only|just) (?:speaks|spoke|in|speak) english|only english|"
         r"(?:should|supposed to|was supposed to) (?:have )?(?:arrived|come|been|be here)|"
         r"(?:after|past) the (?:appointment|deadline|date)|"
         r"\d{2,} (?:people|persons) (?:ahead|in line|waiting|in front)"), -0.5),
    (_re(r"(?:phone|battery|call|line) (?:died|dropped|cut out)|so long (?:that )?my|on hold"),
     -0.3),
    (_re(r"treated (?:me|us|people|everyone) (?:like|as if|as though) (?!family|a person|a human|"
         r"royalty|a friend|a vip)\w+|(?:erases|erased|deletes|deleted|wipes|wiped|resets|lost) "
         r"(?:everything|all my|my progress|what i)|by heart|memorized|(?:kicks|kicked|logs|"
         r"logged) (?:me|you|us) out|every \d+ (?:minutes|seconds)|(?:\d{2,}|five|six|seven|"
         r"eight|nine|ten|[5-9]) (?:steps|screens|pages|clicks|logins|passwords)|if you (?:have|"
         r"got|do not mind)(?: \S+){0,2} (?:days?|hours?|weeks?|all day|time)(?: off| free| to"
         r" spare| to waste)?|nobody (?:there )?cares|no one cares|does not care|do not care"),
     -0.6),
    (_re(r"(?:back to|sends? you back to|sent me back to|start(?:ed)? at) (?:the )?(?:start|"
         r"beginning|main menu|top)|back (?:in|to|at) (?:the )?(?:queue|line|end of the line)|"
         r"back of the line|nothing (?:ever )?changes|every (?:single )?(?:year|time) (?:the same|"
         r"it is)|in (?:your|my|our) face|(?:said|told me|says|tell me) one thing|"
         r"bring (?:someone|a family member|my own|your own|a relative|a friend) to "
         r"(?:translate|interpret)|bring (?:my|your) own (?:interpreter|translator)"), -0.6),
    (_re(r'" (?:\S+ ){1,5}"'), -0.3),
    (_re(r"(?:drive|drove|driving|travel(?:ed|ing)?|bus(?:ed)?|rode) (?:\S+ ){0,2}" + _N
         + r" (?:miles|hours|mi|km)|whoever (?:designed|made|thought|came up)|trippin\w*|"
         r"tripping"), -0.5),
    (_re(r"left (?:me )?on read|radio silence|dumpster fire|big mad|hot mess"), -0.7),
    (_re(r"hits different|top notch|chef'?s kiss|no notes|ten out of ten"), 0.6),
    (_re(r"always (?:busy|closed|down|full|broken|crashing|offline|late|rude|wrong)"), -0.6),
    # good events
    (_re(r"(?:in|within|under|less than|only|just|took|done in|took only|took just|took maybe|"
         r"took about|took like|took around)(?: about| around| just| like| only| under| maybe|"
         r" less than)? (?:\d{1,2}|a few|few|a couple|one|two|three|four|"
         r"five|ten|fifteen|twenty|thirty|an?) (?:minutes?|seconds|days?|business days|"
         r"hours?)(?! (?:wait|of waiting|on hold|in line|late))"), 0.6),
    (_re(r"(?:in|within|under|less than) (?:a|one|two|1|2) (?:weeks?)"), 0.4),
    (_re(r"(?:noticed|caught|found|spotted|corrected|fixed|fix|cleared up) (?:a|the|an|my|their|"
         r"our) (?:\w+ )?(?:mistake|error|problem|typo|issue|mix up)"), 1.2),
    (_re(r"(?:was|is|my) (?:my|own)? ?(?:fault|mistake|bad)|(?:everything|it all|all|it) "
         r"(?:just )?(?:worked|went (?:fine|well|smoothly|great))|worked (?:fine|great|"
         r"perfectly|like a charm)|got (?:it|everything) right|did (?:it|everything) right|"
         r"(?:printed|did|filled|handled|made|booked|found|looked up|fixed|called|set up|"
         r"scheduled|translated|explained|sent|faxed|copied|scanned)(?: \S+){0,3} for (?:me|us)|"
         r"(?:from|on) my (?:phone|couch|cell|laptop)|from home|during (?:my )?lunch|on my "
         r"(?:lunch )?break|while (?:i was )?waiting for|first time in (?:years|forever|ages)|"
         r"got \$? ?\d[\d,]* back|(?:next|following) (?:morning|day)|the day (?:after|my)"),
     0.5),
    (_re(r"made up for (?:it|that|the)|worth the wait|(?:noticed|saw|found|realized|caught) "
         r"(?:that )?i (?:qualified|was eligible|could get|could apply)|i qualified|"
         r"before (?:my )?(?:lunch|break|lunch break) (?:ended|was over)"), 0.6),
    (_re(r"(?:was|were) already (?:there|ready|waiting|done)|before i (?:got|arrived|even)|"
         r"as soon as (?:we|i) (?:got|walked|arrived|came)|never (?:been|had|gotten|seen)(?: \S+)?"
         r" (?:so|such|this|that) (?:fast|quick|easy|good|great|helpful|kind|nice|smooth)|"
         r"(?:filled|explained|helped|went over|walked me through)(?: \S+){0,4} (?:i|we) "
         r"(?:did not|do not|could not) understand"), 0.8),
    (_re(r"did not miss (?:anything|a thing|a step|a beat)|so i did not (?:have|need) to"), 0.6),
    (_re(r"(?:interpreter|translator|spanish speaker|someone who (?:spoke|speaks) \w+) (?:was )?"
         r"(?:ready|waiting|available|there)|(?:there was|they had|had) (?:a|an|someone|"
         r"somebody) (?:\w+ )?(?:interpreter|spanish speaker|translator|who spoke)"), 0.6),
    (_re(r"(?:same day|next day|the next morning|next morning|the day after|following day|"
         r"right away|immediately|on the spot|on time|in no time|no time at all|"
         r"ahead of (?:time|schedule)|earlier than|sooner than|faster than|quicker than|"
         r"ahead of the|before the (?:deadline|estimate|date)|first try|first attempt|"
         r"in one (?:call|visit|trip|try|go|sitting)|on the first|in and out|"
         r"right on time|same week)"), 0.6),
    (_re(r"(?:got|received|picked up|had) (?:my|the|our|his|her|their|a) (?:new |"
         r"replacement |first |\w+ )?" + _THING), 0.5),
    (_re(r"(?:approved|fixed|resolved|sorted|solved|taken care of|took care of|worked out|"
         r"all set|good to go|verified|unlocked|reinstated|cleared up|came through|"
         r"(?<!i )(?<!we )showed up|came in the mail|(?<!i )(?<!we )arrived|hit my account|"
         r"is on the way|"
         r"on its way|on the way|was deposited|got deposited|went through|got through|"
         r"straightened out|back on track|got it done|got everything done)"), 0.5),
    (_re(r"(?:walked (?:me|us) through|stayed (?:late|with (?:me|us)|on the line|after)|"
         r"took (?:the|her|his|their) time|went (?:above|out of (?:her|his|their|the|my) way|"
         r"the extra mile)|above and beyond|made sure|fit (?:me|us) in|squeezed (?:me|us) in|"
         r"got (?:me|us) (?:in|sorted|through|verified|an appointment|seen)|helped (?:me|us)|"
         r"explained (?:everything|it all|why|each|what|exactly|how|it|the|step)|"
         r"step by step|exactly (?:what|which|when|how)|remembered|had (?:my|everything|it|"
         r"the) (?:\w+ )?ready|called (?:me|us) back|call (?:me|us) back|followed up|"
         r"follow up call|kept (?:me|us) (?:updated|informed|posted|in the loop)|met (?:me|us)|"
         r"patient with|treated (?:me|us) (?:with|like (?:family|a person|a human|royalty|a friend|"
         r"a vip))|(?:walked|came|got|left) out with (?:everything|all|it all|my)|everything done|"
         r"on point|listened|answered all|got back to me|"
         r"checked on|saved (?:me|us|my)|made my day|made it (?:so )?(?:easy|simple)|"
         r"worth it|life saver|rock star|god bless|big ups|mad respect|real one|"
         r"whole vibe|understood the assignment|no notes|chef s kiss|deserves a raise|"
         r"give (?:her|him|them) a raise|keep it up|keep up the good|could not ask for more|"
         r"could not have asked|can not complain|no complaints|zero complaints|"
         r"took us straight|took me straight|let me (?:use|skip|bring)|"
         r"without (?:an? )?(?:appointment|problem|issue|hitch|hassle|wait))"), 0.6),
    (_re(r"(?:no|zero|without any|not a single|not one|never had an?) (?:line|wait|waiting|"
         r"problems?|issues?|hassle|complaints?|trouble|stress|hiccups?|delays?|hitch|"
         r"headaches?|glitches)"), 0.6),
    (_re(r"did not (?:have|need) to (?:wait|come back|go back|call|repeat|bring|do)|"
         r"did not (?:even )?(?:wait|sit down)|barely (?:waited|sat down)"), 0.8),
    (_re(r"(?:i|we) (?:was|were) (?:the )?(?:first|1st|2nd|second|next)"), 0.4),
]  # fmt: skip

CONTRAST = re.compile(
    r"(?:^|\s)(but|however|nevertheless|nonetheless|that said|except|still ,|, still|"
    r"[.!?] still|even so|anyway|anyways|overall|all in all|in the end|at the end of the day|"
    r"ultimately|eventually ,|luckily|thankfully|fortunately|unfortunately|sadly)(?=\s|$)"
)
CONCESSION = re.compile(
    r"(?:^|\s)(although|though|even though|even if|despite|in spite of|while)\s"
)
NOTHING = frozenset(
    "no nope nah none nothing n/a na not comment comments other else more further to add "
    "say report share at this time that is it all i do have any feedback thanks thank you "
    "really right now see above as me my part about ok idk".split()
)
NOTHING_CORE = frozenset("no nope nah none nothing n/a na above that idk not".split())


_STARS = {"zero": 0, "no": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


RATINGS: list[tuple[re.Pattern[str], Rating]] = [
    (re.compile(r"(?<![\w.])(\d+(?:\.\d)?) ?(?:/|out of|of) ?(10|5|100)(?!\d)"), out_of),
    (re.compile(r"(?<!\w)(\d|zero|no|one|two|three|four|five) stars?(?!\w)"), stars(_STARS)),
    (re.compile(r"(?<!\w)a ?\+(?!\w)"), lambda m: 0.8),
]
IRONY = re.compile(
    r"(?:^|[.!?] )(?:oh |ah |yeah |well )?(?:great|wonderful|awesome|lovely|perfect|fantastic|"
    r"amazing|brilliant|cool(?: cool)*|nice|good job|well done|congrats|congratulations|bravo|"
    r"impressive|excellent|sure|love (?:it|that|how)|gotta love|got to love|thanks a lot|"
    r"such|very|so|real|really|yay|wow|cool so) \S+"
    r"|(?:gotta|got to|you have to|you got to) love|love (?:how|that|it when)"
    r"|(?:love|loved|enjoyed|fun|glad|happy) (?:being|waiting|typing|driving|filling|sitting|"
    r"getting|spending|calling|explaining|having|that i|i had|my|to be)|"
    r"best part (?:was|is)|very (?:secure|user friendly|efficient|helpful|smart)|genius|"
    r"so (?:helpful|efficient|smart|secure)|such (?:efficient|great|good|fast|quick|helpful)|"
    r"nothing says|what a (?:treat|joy|pleasure|surprise|concept|system|way)|"
    r"really (?:appreciate|appreciated) it|real(?:ly)? (?:smart|secure|helpful)"
)
SARCASM = re.compile(
    r"(?:thanks|thank you) (?:so much )?for (?:nothing|wasting|losing|making me|the runaround)"
    r"|10/10 would|would (?:totally |definitely )?recommend (?:waiting|spending)|"
    r"because everyone has|yeah right|as if|/s(?!\w)|eyeroll|clap clap|(?:^|\s)clap ?$|"
    r"clown|what a joke|good luck (?:with that|getting)|, genius ?[.!]* ?$"
)
QUESTION = re.compile(
    r"^\s*(?:can i|could i|do i|does|is there|are there|will|is it|can you|could you|"
    r"can someone|could someone|should i|am i|do you|did|(?:how|what|when|where|which|who|why) "
    r"(?:do|does|did|is|are|was|were|can|could|will|would|should|long|much|many|time|day))\b|"
    r"\?\s*$|(?:not sure|do not know|wondering) (?:if|whether|when)|i want to know"
)
SUGGESTION = re.compile(
    r"^\s*(?:please|pls|it would be|would be|would love|i wish|wish|maybe|you should|"
    r"they should|should|consider|suggest|suggestion|it would help|i hope|hopefully|hope|"
    r"add|offer|make|have more|more)\b|would be (?:nice|good|great|helpful|better)|"
    r"(?:would|could) (?:use|have) (?:more|a)"
)
MIXED = re.compile(
    r"some good,? some bad|good and bad|mixed|so so|so-so|hit or miss|neither good nor bad|"
    r"not (?:great|good),? not (?:terrible|bad)|could be (?:better|worse),? could be|"
    r"it is what it is|average"
)
CLOCK = re.compile(
    r"(?<!\w)(?:at|by|til|until|till|from|to|around) (\d{1,2})(?: : (\d\d))? ?"
    r"(?:(pm|p m|in the afternoon|at night)|am|a m|in the morning)?(?!\w)"
)


# Words TextBlob scores that say nothing about an experience here ("first time", "more
# chairs", "the whole thing", "new card", "social security"): left out before it scores.
FALSE_FRIENDS = re.compile(
    r"\b(?:first|new|old|whole|real|full|high|other|more|most|right|big|special|certain|such|"
    r"own|social|public|sure|free|least|little|long|short|final|due|just|only|actually|live|"
    r"living|kind of|kinda|sort of|pretty|filled|honestly|straight|busy|normal|usual|ok|okay|"
    r"fine|alright|exactly|main|small|second)\b"
)


_HELP = frozenset("help helped helps helping".split())


def lexical(sentence: str) -> tuple[float, float | None, int]:
    """TextBlob's polarity and subjectivity of a plain sentence, plus half the service lexicon
    (a word after "not", "no", "never" within three is flipped; after "very", "so" weighs a
    third more), and how many words carried weight."""
    words = re.findall(r"[a-z0-9]+", sentence)
    polarity = subjectivity = 0.0
    if not pattern_words().isdisjoint(words):  # TextBlob's tokenizer is the costly part
        polarity, subjectivity = pattern_sentiment()(FALSE_FRIENDS.sub(" ", sentence))
    total = 0.0
    hits = int(polarity != 0)
    for i, word in enumerate(words):
        weight = LEXICON.get(word, 0.0)
        if not weight or (word in _HELP and not RELATIVES.isdisjoint(words[max(0, i - 3) : i])):
            continue  # nothing, or "my son helped me": no praise of the service
        hits += 1
        if any(w in NEGATORS for w in words[max(0, i - 3) : i]):
            weight = -0.8 * weight
        if i and words[i - 1] in INTENSIFIERS:
            weight *= 1.3
        total += weight
    return polarity + 0.5 * total, subjectivity, hits


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
