"""The ``feedback-bot`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import logs
from bot.core.channels import by_interface
from bot.core.errors import FlowValidationError, RetryableError
from bot.core.flowfile import check_directory, load_flows
from bot.core.library import by_id
from bot.core.preview import SAMPLE_CONTEXT, preview_rows
from bot.core.wording import DESCRIPTIONS
from bot.settings import DEMO_MARKER, ConfigError, Settings
from flows import FLOWS_DIR


def _flows_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("FLOWS_DIR") or FLOWS_DIR)


def cmd_flows_check(args: argparse.Namespace) -> int:
    from bot import registry

    directory = _flows_dir(args.dir)
    flows, errors = check_directory(directory)
    channels = by_interface(registry.kinds())
    for flow in flows.values():
        print(f"{flow.source}: {flow.id} version {flow.version} ({len(flow.questions)} questions)")
        interface = None
        for row in preview_rows(flow):
            if row["interface"] != interface:
                interface = row["interface"]
                names = ", ".join(channels.get(interface, ())) or "no channel yet"
                print(f"  {DESCRIPTIONS[interface]} ({names})")
            cost = ""
            if row["segments"] is not None:
                plural = "segment" if row["segments"] == 1 else "segments"
                # Say which characters force UCS-2, so an editor knows what to rephrase.
                why = f"  (non-GSM: {row['non_gsm']})" if row["non_gsm"] else ""
                cost = (f" {row['encoding']:<5} {row['segments']} {plural:<8} "
                        f"{row['units']:>4} units{why}")  # fmt: skip
            elif row["seconds"] is not None:  # said aloud: about how long it takes
                cost = f" about {row['seconds']} s to say"
            print(f"    {row['language']}  {row['name']:<36}{cost}".rstrip())
            for line in row["text"].splitlines() or [""]:
                print(f"          {line}")
    # Warnings run as they are (a flow in the earlier format): said, but they fail nothing.
    warnings = [warning for flow in flows.values() for warning in flow.warnings]
    for title, found in (("warning(s)", warnings), ("error(s)", errors)):
        if found:
            print(f"\n{len(found)} {title}:", file=sys.stderr)
            for problem in found:
                print(f"  {problem}", file=sys.stderr)
    if errors:
        return 1
    warned = f", {len(warnings)} warning(s)" if warnings else ""
    print(f"\nall {len(flows)} flow(s) valid{warned} (placeholders shown with sample values)")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from adapters.console import run_survey, terminal_replies
    from bot import registry

    flows = load_flows(_flows_dir(args.flows_dir))
    if args.flow not in flows:
        print(f"unknown flow {args.flow!r}; known: {', '.join(sorted(flows))}", file=sys.stderr)
        return 2
    kinds = registry.kinds()
    if args.channel not in kinds:
        print(f"unknown channel {args.channel!r}; known: {', '.join(sorted(kinds))}",
              file=sys.stderr)  # fmt: skip
        return 2
    context: dict[str, object] = {**SAMPLE_CONTEXT, "attributes": {}}
    for key in ("agency", "service", "omb_control_number"):
        if getattr(args, key) is not None:
            context[key] = getattr(args, key)
    attributes: dict[str, object] = {}
    for item in args.attribute:
        key, _, value = item.partition("=")
        attributes[key] = {"true": True, "false": False}.get(value.lower(), value)
    context["attributes"] = attributes
    interactive = sys.stdin.isatty()
    replies = terminal_replies() if interactive else sys.stdin
    voice = kinds[args.channel].interface == "voice"
    if voice:  # typed keys are pressed, words are said
        from adapters.voice.channel import heard

        if interactive:
            print("(a call: type keys as pressed, 1 for yes, * to hear it again, # to skip; "
                  "or type the words as said)")  # fmt: skip
    run_survey(
        flows[args.flow],
        replies,
        sys.stdout,
        language=args.lang,
        context=context,
        echo=not interactive,
        interface=kinds[args.channel].interface,
        heard=heard if voice else None,
    )
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("a11-feedback-bot")
    except PackageNotFoundError:  # run from a checkout that was not installed
        return "(not installed)"


def _settings() -> Settings:
    return Settings.from_env()


def _serve(worker: bool) -> int:
    from aiohttp import web

    from bot.web.app import DRAIN_SECONDS, RUNTIME, create_app
    from bot.web.middleware import AccessLogger
    from bot.wiring import describe

    settings = _settings()
    app = create_app(settings, worker=worker, serving=True)
    # Said, so that a service started on the demo's folder knows its records join the demo's.
    demo = not settings.database_url and (settings.data_dir / DEMO_MARKER).is_file()
    demo_note = f" (the demo's data, {settings.data_dir}/{DEMO_MARKER})" if demo else ""

    async def announce(app: web.Application) -> None:
        logging.getLogger("bot").info(
            "feedback-bot %s %s listening on 0.0.0.0:%d; %s%s",
            _version(), "web and worker" if worker else "web", settings.port,
            describe(app[RUNTIME]), demo_note,
        )  # fmt: skip

    app.on_startup.append(announce)
    # On SIGTERM the app ends the requests in flight within DRAIN_SECONDS itself (see there),
    # so that the process is done well inside the platform's 30 s. aiohttp's own bound is only
    # a backstop, for a handler that would not end when cancelled; it is not the grace: aiohttp
    # waits up to shutdown_timeout for the handlers, then as long again after cancelling their
    # reads of the body, then closes the app. At 30, a download or a web chat socket in flight
    # kept the process past the grace (46 s measured with a chat page open), killed before it
    # closed Redis or the store.
    web.run_app(app, host="0.0.0.0", port=settings.port, shutdown_timeout=DRAIN_SECONDS + 2,
                print=None, access_log_class=AccessLogger)  # fmt: skip
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    return _serve(worker=False)


def cmd_run(args: argparse.Namespace) -> int:
    return _serve(worker=True)


def cmd_worker(args: argparse.Namespace) -> int:
    from bot.service.worker import run_worker
    from bot.wiring import open_runtime

    settings = _settings()
    settings.check()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with open_runtime(settings) as rt:
            await run_worker(rt, stop)

    asyncio.run(main())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    asyncio.run(run_demo(count=args.count, seed=args.seed, fresh=args.fresh))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from adapters.sql import database_url, upgrade_sql
    from bot.wiring import open_store_ready

    settings = _settings()
    if args.sql:
        sys.stdout.write(upgrade_sql(database_url(settings.database_url, settings.data_dir),
                                     args.since))  # fmt: skip
        return 0

    async def main() -> list[str]:
        store = await open_store_ready(settings, migrate=False)
        try:
            return await store.migrate()
        finally:
            await store.close()

    applied = asyncio.run(main())
    print("\n".join(f"applied {a}" for a in applied) or "measures store is up to date")
    return 0


def cmd_flows_export(args: argparse.Namespace) -> int:
    from bot.wiring import open_library

    settings = _settings()

    async def main() -> list[Path]:
        async with open_library(settings) as live:
            return await live.export(Path(args.dir))

    for path in asyncio.run(main()):
        print(f"wrote {path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from bot import registry
    from bot.core import reports, trends
    from bot.core.catalog import load_catalog
    from bot.wiring import reading

    settings = _settings()
    flows = load_flows(settings.flows_dir)
    services = load_catalog(settings.services_file, flows, registry.kinds())
    if args.service and args.service not in services:
        print(f"unknown service {args.service!r}", file=sys.stderr)
        return 2

    if args.format == "csv":  # written as the store reads it: no report is built
        from bot.service import exports

        async def write() -> None:
            async with reading(settings) as (_, reader):
                async for part in exports.per_response_csv(
                    reader, services, args.fiscal_year, args.quarter, args.service
                ):
                    sys.stdout.write(part)

        asyncio.run(write())
        return 0

    async def main() -> dict[str, Any]:
        async with reading(settings) as (_, reader):
            report = await trends.build(reader, services, flows, args.fiscal_year,
                                        args.quarter, args.service, settings.min_cell)  # fmt: skip
            if args.format == "json":  # as the API's: each service's themes (never public)
                from bot.service.themes import quarter_themes

                chosen = [args.service] if args.service else sorted(services)
                report["themes"] = await quarter_themes(
                    reader, services, args.fiscal_year, args.quarter, chosen, settings.min_cell
                )
            return report

    report = asyncio.run(main())
    if args.format in ("public", "site"):
        from bot.core.public import public_report
        from bot.service.publish import Site, write_site

        public = public_report(report, services)
        if args.format == "public":
            print(json.dumps(public, indent=2, ensure_ascii=False))
            return 0
        site = Site.of(settings, services, datetime.now(UTC).date())
        for path in write_site(public, args.out, site):
            print(f"wrote {path}")
    elif args.format == "collection-csv":
        sys.stdout.write(reports.collection_csv(report["collection_detail"]))
    elif args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(reports.as_table(report))
    return 0


def _catalog(settings: Settings) -> dict[str, Any]:
    from bot import registry
    from bot.core.catalog import load_catalog

    return dict(load_catalog(settings.services_file, load_flows(settings.flows_dir),
                             registry.kinds()))  # fmt: skip


def cmd_export(args: argparse.Namespace) -> int:
    from bot.core.reports import quarter_windows
    from bot.service import transfer
    from bot.wiring import reading

    if (args.fiscal_year is None) != (args.quarter is None):
        print("feedback-bot: --fiscal-year and --quarter go together", file=sys.stderr)
        return 2
    settings = _settings()
    windows = []
    if args.fiscal_year is not None:
        windows = quarter_windows(_catalog(settings), args.fiscal_year, args.quarter)

    async def main() -> int:
        async with reading(settings) as (store, reader):
            # written first: an action the log cannot hold is not taken
            await store.audit(_actor(), "export", args.service, {
                "fiscal_year": args.fiscal_year, "quarter": args.quarter})  # fmt: skip
            return await transfer.export(reader, args.out, windows, args.service)

    count = asyncio.run(main())
    print(f"exported {count:,} records" + (f" to {args.out}" if args.out != "-" else ""),
          file=sys.stderr)  # fmt: skip
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.service import transfer
    from bot.wiring import open_store_ready

    settings = _settings()
    for path in args.files:
        if path != "-" and not Path(path).is_file():
            print(f"feedback-bot: no such file: {path}", file=sys.stderr)
            return 2
    bar = _progress_bar(args.files)

    def progress(read: int, records: int) -> None:
        if bar is not None:
            bar.update(read - bar.n)
            bar.set_postfix_str(f"{records:,} records", refresh=False)

    async def main() -> tuple[transfer.Imported, float, int, float]:
        store = await open_store_ready(settings)
        try:
            names = [Path(p).name for p in args.files]
            await store.audit(_actor(), "import", None, {"files": names})
            started = time.monotonic()
            done = await transfer.import_files(store, args.files, progress)
            took = time.monotonic() - started
            # The days it filled are counted now, so pages are quick at once (the worker
            # would count them within a minute).
            days = await store.roll_up() if done.new else 0
            return done, took, days, time.monotonic() - started - took
        finally:
            await store.close()

    # An import makes and drops some hundred objects a record, none in a cycle: the collector's
    # default (a pass every 700 allocations) took a quarter of its CPU. This process ends with
    # the import, so the thresholds are its own.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 50)
    try:
        done, took, days, counting = asyncio.run(main())
    except transfer.BadLine as exc:
        _close(bar)
        print(f"feedback-bot import: {exc}\n{_stored(exc.imported)} before it; mend the line "
              "and run the same import again: what is stored already is skipped.",
              file=sys.stderr)  # fmt: skip
        return 1
    except RetryableError as exc:
        _close(bar)
        print(f"feedback-bot import: {exc}; run the same import again to go on "
              "(what is stored already is skipped)", file=sys.stderr)  # fmt: skip
        return 1
    _close(bar)
    if done.records and not done.new:
        print(f"nothing changed: all {done.records:,} records were stored already")
    else:
        rate = f" in {took:.1f} s ({done.records / took:,.0f} a second)" if took > 0 else ""
        print(
            f"imported {done.records:,} records{rate}: {done.new:,} new, "
            f"{done.already:,} stored already"
        )
    if days:
        print(f"counted the figures of {days:,} service-days in {counting:.1f} s")
    return 0


def _stored(done: Any) -> str:
    return f"{done.records:,} records ({done.new:,} new) are stored"


def _progress_bar(paths: Sequence[str]) -> Any:
    """A progress bar on standard error when it is a terminal (in bytes of the files)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    sizes = [Path(p).stat().st_size for p in paths if p != "-"]
    total = sum(sizes) if len(sizes) == len(paths) else None
    return tqdm(total=total, unit="B", unit_scale=True, desc="import", file=sys.stderr)


def _close(bar: Any) -> None:
    if bar is not None:
        bar.close()


def cmd_outbox(args: argparse.Namespace) -> int:
    import json

    from bot.service.runtime import utcnow
    from bot.store.outbox import Outbox
    from bot.store.state import State
    from bot.store.streams import StreamConsumer
    from bot.store.work import WorkQueue
    from bot.wiring import open_redis, open_store_ready, sink_names

    async def main() -> None:
        async with open_redis(settings) as redis:
            state = State(redis)
            queue: StreamConsumer = (
                WorkQueue(state, utcnow)
                if args.work
                else Outbox(state, [], by_id({}), utcnow, reported={})
            )
            await queue.ensure_group()
            if args.outbox_command == "status":
                status = await queue.status()
                if isinstance(queue, Outbox):  # each sink on its own line
                    status["sinks"] = await queue.sink_status(sink_names(settings))
                print(json.dumps(status, indent=2))
                return
            store = await open_store_ready(settings)
            try:  # written first: an action the log cannot hold is not taken
                await store.audit(_actor(), "replay", "work" if args.work else "outbox",
                                  {"limit": args.limit})  # fmt: skip
            finally:
                await store.close()
            print(f"replayed {await queue.replay(args.limit)} dead-lettered entries")

    settings = _settings()
    asyncio.run(main())
    return 0


def cmd_touchpoints_check(args: argparse.Namespace) -> int:
    """Read each service's Touchpoints form and check it against the service's flow."""
    from bot import registry
    from bot.core.catalog import load_catalog
    from bot.wiring import build_touchpoints

    settings = _settings()
    flows = load_flows(settings.flows_dir)
    services = load_catalog(settings.services_file, flows, registry.kinds())
    sink = build_touchpoints(settings, services, flows, None)
    if sink is None:
        print("no service names a touchpoints_form")
        return 0

    async def main() -> int:
        from adapters.touchpoints import TouchpointsError, TouchpointsSink

        assert isinstance(sink, TouchpointsSink)
        await sink.open()
        try:
            problems = await sink.check()
        except TouchpointsError as exc:
            print(f"feedback-bot: touchpoints: {exc}", file=sys.stderr)
            return 2
        finally:
            await sink.close()
        for line in problems:
            print(line)
        for service_id, form in sorted(sink.maps.items()):
            comment = f", comment {form.comment}" if form.comment else ""
            fields = f"trust {form.trust}, drivers {form.positive} and {form.negative}{comment}"
            print(f"service {service_id}: Touchpoints form {form.short_uuid}: ok ({fields})")
        return 1 if problems else 0

    return asyncio.run(main())


def _actor() -> str:
    """Who the audit log names for a command run here."""
    import getpass

    return f"cli:{getpass.getuser()}"


def cmd_forget(args: argparse.Namespace) -> int:
    import json

    from bot.service import privacy
    from bot.wiring import open_runtime

    async def main() -> dict[str, object]:
        async with open_runtime(_settings(), channels=[], sinks=[], seed=False) as rt:
            return await privacy.forget(rt, args.address, _actor())

    try:
        counts = asyncio.run(main())
    except ValueError as exc:
        print(f"feedback-bot: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(counts, indent=2))
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    from bot.service import privacy
    from bot.wiring import open_runtime

    async def main() -> int:
        async with open_runtime(_settings(), channels=[], sinks=[], seed=False) as rt:
            return await privacy.retention(rt, _actor())

    print(f"free text removed from {asyncio.run(main())} records")
    return 0


def cmd_twilio_fake(args: argparse.Namespace) -> int:
    """The bundled loopback Twilio API, for trying the bot on one machine."""
    import aiohttp

    from adapters.testing.twilio_fake import FakeMessage, FakeTwilio, caller_script

    try:
        script = caller_script(args.caller)
    except ValueError as exc:
        print(f"--caller: {exc}", file=sys.stderr)
        return 2

    async def main() -> None:
        fake = FakeTwilio(auth_token=args.auth_token)
        # Each call the bot places (a call-back) is answered by a simulated caller that
        # follows the bot's TwiML, prints what is said and answers from the script.
        fake.post_to = lambda url: url
        fake.on_say = lambda words: print(f"call> {words}", flush=True)
        fake.callers = _EveryNumber(script)
        base = await fake.start(args.port)
        print(f"A loopback Twilio API on {base}. In the bot's environment:\n"
              f"  TWILIO_API_BASE_URL={base}\n  TWILIO_ACCOUNT_SID={fake.account_sid}\n"
              f"  TWILIO_AUTH_TOKEN={fake.auth_token}\n"
              "Each message the bot sends is shown here and reported delivered (a signed "
              "status callback); each call it places is answered from --caller, what it "
              "says shown. Ctrl-C stops it.", flush=True)  # fmt: skip
        async with aiohttp.ClientSession() as http:
            pending: set[asyncio.Task[int]] = set()

            def on_send(message: FakeMessage) -> None:
                print(f"to ...{message.to[-4:]}: {message.body}", flush=True)
                task = asyncio.ensure_future(fake.send_status(http, message, "delivered"))
                pending.add(task)
                task.add_done_callback(pending.discard)

            fake.on_send = on_send
            try:
                await asyncio.Event().wait()
            finally:
                await fake.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


class _EveryNumber(dict[str, list[Any]]):
    """The same caller's script, whatever number is called."""

    def __init__(self, script: list[Any]) -> None:
        super().__init__()
        self.script = script

    def get(self, key: str, default: Any = None) -> list[Any]:
        return list(self.script)


def cmd_sentiment(args: argparse.Namespace) -> int:
    """Comments from stdin, one per line: each redacted, scored and tagged with themes as a
    response record's free text is (the default themes, or a service's from the catalog)."""
    from bot.core.redact import redact
    from bot.core.sentiment import score
    from bot.core.themes import tag
    from bot.core.themes_default import DEFAULT

    taxonomy = DEFAULT
    if args.service:
        from bot import registry
        from bot.core.catalog import load_catalog

        settings = _settings()
        services = load_catalog(settings.services_file, load_flows(settings.flows_dir),
                                registry.kinds())  # fmt: skip
        if args.service not in services:
            print(f"unknown service {args.service!r}", file=sys.stderr)
            return 2
        taxonomy = services[args.service].themes
    for line in sys.stdin:  # one line out per line in, blank lines included
        text = redact(line.rstrip("\n"))
        result = score(text, args.lang)
        polarity = "" if result.polarity is None else f"{result.polarity:.3f}"
        themes = ",".join(tag(text, args.lang, taxonomy))
        print(f"{result.label}\t{polarity}\t{text}\t{themes}")
    return 0


def _language(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2,3}", value):
        raise argparse.ArgumentTypeError("a language code such as en or es")
    return value


def _fiscal_year(value: str) -> int:
    from bot.core.reports import FISCAL_YEARS

    year = int(value)
    if year not in FISCAL_YEARS:
        raise argparse.ArgumentTypeError("fiscal year must be 2000-2200")
    return year


def _quarter(value: str) -> int:
    quarter = int(value)
    if quarter not in (1, 2, 3, 4):
        raise argparse.ArgumentTypeError("quarter must be 1, 2, 3 or 4")
    return quarter


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedback-bot", description="OMB A-11 customer-experience survey bot"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    flows = sub.add_parser("flows", help="work with survey flow files")
    flows_sub = flows.add_subparsers(dest="flows_command", required=True)
    check = flows_sub.add_parser(
        "check",
        help="validate a flow folder and show each message on each kind of interface "
        "(text message, chat with buttons, web page, voice call), with its SMS encoding and "
        "segments, and the seconds a call takes to say it",
    )
    check.add_argument(
        "dir", nargs="?", help="folder of flow files (default: $FLOWS_DIR or built-in)"
    )
    check.set_defaults(func=cmd_flows_check)

    export = flows_sub.add_parser(
        "export",
        help="write the flows the running bot uses (and the catalog with its run-time settings) "
        "to a folder, for the agency's repository",
    )
    export.add_argument("dir", help="folder to write to")
    export.set_defaults(func=cmd_flows_export)

    chat = sub.add_parser("chat", help="take a survey in the terminal (replies from stdin)")
    chat.add_argument("--flow", default="a11-v2-thumbs", help="flow id (default a11-v2-thumbs)")
    chat.add_argument("--lang", default=None, help="language, e.g. en or es")
    chat.add_argument(
        "--channel",
        default="sms",
        help="word it as this channel does (sms, whatsapp, slack, webchat, ...: its kind of "
        "interface's instructions; default sms)",
    )
    chat.add_argument("--flows-dir", default=None, help="folder of flow files")
    chat.add_argument("--agency", default=None)
    chat.add_argument("--service", default=None)
    chat.add_argument("--omb-control-number", dest="omb_control_number", default=None)
    chat.add_argument(
        "--attribute",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a transaction attribute, e.g. staff_assisted=true",
    )
    chat.set_defaults(func=cmd_chat)

    sub.add_parser("web", help="serve the HTTP API and webhooks ($PORT)").set_defaults(func=cmd_web)
    sub.add_parser("worker", help="send invitations, reminders and expiries").set_defaults(
        func=cmd_worker
    )
    sub.add_parser("run", help="web and worker in one process (one machine)").set_defaults(
        func=cmd_run
    )
    demo = sub.add_parser(
        "demo", help="the whole bot on embedded defaults with simulated people and a fake Twilio"
    )
    demo.add_argument("--count", type=int, default=300, help="transactions to simulate")
    demo.add_argument("--seed", type=int, default=2026, help="random seed")
    demo.add_argument(
        "--fresh", action="store_true", help="start over: remove the demo's data first"
    )
    demo.set_defaults(func=cmd_demo)

    migrate = sub.add_parser("migrate", help="bring the measures store's tables up to date")
    migrate.add_argument("--sql", action="store_true",
                         help="print the SQL for review instead of running it")  # fmt: skip
    migrate.add_argument(
        "--from",
        dest="since",
        default=None,
        metavar="REVISION",
        help="with --sql: the store's current revision (default: empty)",
    )
    migrate.set_defaults(func=cmd_migrate)
    report = sub.add_parser("report", help="the quarterly A-11 report from the measures store")
    report.add_argument("--fiscal-year", type=_fiscal_year, required=True)
    report.add_argument("--quarter", type=_quarter, required=True)
    report.add_argument("--service", default=None)
    report.add_argument(
        "--format", choices=("table", "csv", "collection-csv", "json", "public"), default="table"
    )
    report.set_defaults(func=cmd_report)
    publish = sub.add_parser(
        "publish", help="the quarter's public results as a static site (index.html, data.csv)"
    )
    publish.add_argument("--fiscal-year", type=_fiscal_year, required=True)
    publish.add_argument("--quarter", type=_quarter, required=True)
    publish.add_argument("--out", type=Path, required=True, help="the directory to write")
    publish.set_defaults(func=cmd_report, format="site", service=None)

    dump = sub.add_parser(
        "export", help="write stored response records as JSON lines (a backup, a move)"
    )
    dump.add_argument("--out", required=True,
                      help="the file to write (.gz: compressed; -: standard output)")  # fmt: skip
    dump.add_argument("--fiscal-year", type=_fiscal_year, default=None)
    dump.add_argument("--quarter", type=_quarter, default=None)
    dump.add_argument("--service", default=None)
    dump.set_defaults(func=cmd_export)
    load = sub.add_parser(
        "import", help="keep the records of export files in the store (those not there yet)"
    )
    load.add_argument("files", nargs="+", metavar="FILE",
                      help="JSON lines of records (.gz: compressed; -: stdin)")  # fmt: skip
    load.set_defaults(func=cmd_import)

    outbox = sub.add_parser("outbox", help="records on their way to the measures store")
    outbox.add_argument("--work", action="store_true",
                        help="the work queue (Slack posts, case actions) instead")  # fmt: skip
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    outbox_sub.add_parser("status", help="waiting, in flight, retrying, dead-lettered")
    replay = outbox_sub.add_parser("replay", help="re-drive dead-lettered records")
    replay.add_argument("--limit", type=int, default=None)
    outbox.set_defaults(func=cmd_outbox)

    touchpoints = sub.add_parser("touchpoints", help="GSA Touchpoints, where responses go")
    touchpoints_sub = touchpoints.add_subparsers(dest="touchpoints_command", required=True)
    touchpoints_sub.add_parser(
        "check", help="read each service's form and check it against its flow"
    ).set_defaults(func=cmd_touchpoints_check)

    forget = sub.add_parser(
        "forget", help="forget a person: responses, surveys, consent but an opt-out, excerpts"
    )
    forget.add_argument("address", help="a phone number, a chat user id, or a pseudonym")
    forget.set_defaults(func=cmd_forget)
    sub.add_parser(
        "retention", help="remove free text older than RETENTION_DAYS now (the worker does daily)"
    ).set_defaults(func=cmd_retention)

    fake = sub.add_parser(
        "twilio-fake", help="run the bundled loopback Twilio API (trying the bot locally)"
    )
    fake.add_argument("--port", type=int, default=8089)
    fake.add_argument("--auth-token", default="local-auth-token")
    fake.add_argument(
        "--caller", default="1,13,say:Quick and kind thank you",
        help="how a called person answers, comma-separated: keys (1, 13, #, *, 9), "
        "say:words, - (silence), hangup",
    )  # fmt: skip
    fake.set_defaults(func=cmd_twilio_fake)

    sentiment = sub.add_parser(
        "sentiment",
        help="score comments from stdin: label<TAB>polarity<TAB>redacted text<TAB>themes",
    )
    sentiment.add_argument(
        "--lang", type=_language, default="en",
        help="the survey's language (en, es): used when a comment's words do not say which",
    )  # fmt: skip
    sentiment.add_argument(
        "--service", help="tag with this catalog service's themes (default: the default themes)"
    )
    sentiment.set_defaults(func=cmd_sentiment)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``feedback-bot`` console script."""
    args = build_parser().parse_args(argv)
    fmt = os.environ.get("LOG_FORMAT", "text")
    level = os.environ.get("LOG_LEVEL", "INFO")
    if fmt not in ("text", "json") or level.upper() not in logging.getLevelNamesMapping():
        print("feedback-bot: LOG_FORMAT must be text or json, LOG_LEVEL a level such as INFO",
              file=sys.stderr)  # fmt: skip
        return 2
    logs.configure(level, fmt)
    try:
        code: int = args.func(args)
    except (ConfigError, FlowValidationError) as exc:
        print(f"feedback-bot: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
