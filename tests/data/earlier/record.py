"""Records what the code before per-interface wording sent, into ``sent-before.json``.

Run with that code, not this one::

    git archive efe6ce9 | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before python3 tests/data/earlier/record.py tests/data/earlier \\
        > tests/data/earlier/sent-before.json

It writes every message of each flow of the folder as that code's preview gave it, and two
conversations on an admin's version of the thumbs flow (``test_earlier_format.admin_text``: the
same two replacements) as the ``benefits-application`` service has them.
"""

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.core import engine
from bot.core.flowfile import check_directory, parse_flow
from bot.core.preview import previews

folder = Path(sys.argv[1])
flows, errors = check_directory(folder)
assert not errors, errors
out: dict[str, object] = {
    "previews": {
        flow_id: {f"{p.language} {p.name}": p.text for p in previews(flow)}
        for flow_id, flow in sorted(flows.items())
    },
}
admin = (
    (folder / "a11-v2-thumbs.yaml")
    .read_text(encoding="utf-8")
    .replace("3 quick questions about {service}. Reply STOP",
             "3 short questions about {service}. Reply STOP")
    .replace("Responda STOP para cancelar.", "Para no recibir más mensajes, responda STOP.")
)  # fmt: skip
flow, errors = parse_flow(yaml.safe_load(admin), "admin")
assert flow is not None, errors
SERVICE = {"provider": "Example Benefits Agency", "service": "Benefits application",
           "agency": "Example Benefits Agency", "program": "Benefits Online",
           "contact": "Questions? Call 1-800-555-0100 or visit example.gov/help",
           "omb_control_number": "1234-5678", "attributes": {}}  # fmt: skip
DRIVERS = ["effectiveness", "ease", "efficiency", "transparency", "humanity", "other"]
T0 = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
conversations = []
for language, replies in (("en", ["purple", "yes", "1 3", "It was fine"]),
                          ("es", ["no", "quizás", "2", "muy lento"])):  # fmt: skip
    step = engine.start(flow, now=T0, context=SERVICE, language=language,
                        ttl=timedelta(hours=72), offered_drivers=DRIVERS)  # fmt: skip
    said = ["\n".join(step.messages)]
    for reply in replies:
        step = engine.reply(flow, step.session, reply, T0)
        said.append("\n".join(step.messages))
    conversations.append({"language": language, "replies": replies, "said": said})
out["conversations"] = conversations
print(json.dumps(out, ensure_ascii=False, indent=1))
