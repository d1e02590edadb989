"""Incidents benchmark; writes bench/results/incidents.json.

    .venv/bin/python bench/incidents.py [--db sqlite|postgresql] [--conversations 500] [--rates 100,200,500] [--seconds 10]

1. declared or updated -> visible on /status.json of a running `uvicorn` (another
   process): p99 over 40 updates (target <= 1 s);
2. a fan-out of one update to --conversations linked conversations (half on X, 30 % on
   Discord, 20 % by email) through the real senders to the local Discord and X servers
   and aiosmtpd, with the budgets' clock accelerated (30 simulated seconds per round,
   since X allows 200 posts per 15 minutes): simulated and wall time, and the most
   sends any channel made in any window of its budget (must be <= the budget);
3. /status served from the cached render under an open-loop load of each of --rates
   requests/s for --seconds (the aiohttp load generator shares the 2 cores): p50/p99 from
   each request's scheduled time (target p99 <= 50 ms at 500/s);
4. burst -> proposal: the ingest of the threshold message (the one whose ingest makes the
   proposal; at least the 5th person's) until the proposal exists, over 10 bursts of
   the TEST split's outage reports in turn, each from new people (target <= 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]  # bench/discord.py

import httpx  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4) if ordered else float("nan")


def make_settings(db: str, home: Path, env: dict[str, str], suffix: str = ""):
    os.environ.update({"TRKV_HOME": str(home), "TRKV_DEMO": "0", **{f"TRKV_{k.upper()}": v for k, v in env.items()}})
    if db == "postgresql":
        from sqlalchemy import create_engine, text

        name = f"bench_inc_{os.getpid()}{suffix}"
        with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        os.environ["TRKV_DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    from storage.migrate import upgrade
    from trkv.settings import reset_settings

    settings = reset_settings()
    upgrade(settings.db_url)
    return settings


def declare(settings, title: str, refs: list[str] | None = None) -> int:
    from support.incidents import core

    return core.declare(title, "major", core.Actor("bench@trkv.test", "lead"), components_=["API"],
                        ticket_refs=refs, message="Investigating.", settings=settings, publish=False)["id"]


# 1 and 3: a real web server ----------------------------------------------------------


class Web:
    def __init__(self, home: Path):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = open(home / "web.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "inbox.app:create_app", "--factory", "--port", str(self.port),
             "--log-level", "warning", "--no-access-log"], cwd=ROOT, env=dict(os.environ), stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url("/status.json")).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the web server did not start")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def visible(settings, web: Web, updates: int = 40) -> dict:
    from support.incidents import core

    incident = declare(settings, "Bench: visibility")
    actor = core.Actor("bench@trkv.test", "lead")
    latencies = []
    with httpx.Client() as client:
        for n in range(updates):
            marker = f"update-{n}-{time.time_ns()}"
            start = time.perf_counter()
            core.post_update(incident, "identified", marker, actor, settings=settings)  # published: on the page
            while marker not in client.get(web.url("/status.json")).text:
                time.sleep(0.01)
            latencies.append(time.perf_counter() - start)
    return {"updates": updates, "p50_s": pct(latencies, 0.5), "p99_s": pct(latencies, 0.99), "target_p99_s": 1.0}


async def _load(url: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """aiohttp (httpx's async pool is the bottleneck at hundreds of requests a second)."""
    import aiohttp

    latencies, errors = [], 0
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as client:
        async def one(at: float) -> None:
            nonlocal errors
            try:
                async with client.get(url) as response:
                    await response.read()
                    errors += response.status != 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                errors += 1
            latencies.append(time.perf_counter() - at)

        tasks, start = [], time.perf_counter()
        for n in range(int(rate * seconds)):
            at = start + n / rate  # open loop: the schedule does not wait for answers
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(at)))
        await asyncio.gather(*tasks)
    return latencies, errors


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_load(web: Web, rate: float, seconds: float) -> dict:
    httpx.get(web.url("/status"))  # the first render fills the cache
    cpu = cpu_seconds(web.process.pid)
    latencies, errors = asyncio.run(_load(web.url("/status"), rate, seconds))
    cpu = cpu_seconds(web.process.pid) - cpu  # the server's own cost, whatever else the machine runs
    return {"rate_per_s": rate, "seconds": seconds, "requests": len(latencies), "errors": errors,
            "server_cpu_ms_per_request": round(1000 * cpu / max(len(latencies), 1), 3),
            "p50_ms": round(pct(latencies, 0.5) * 1000, 2), "p99_ms": round(pct(latencies, 0.99) * 1000, 2),
            "target_p99_ms": 50}


# 2: the fan-out -----------------------------------------------------------------------


class SimClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def fan_out(settings, conversations: int) -> dict:
    from datetime import UTC, datetime

    from connectors.base import Inbound
    from storage.db import session_factory, transaction
    from storage.models.delivery import Outbox
    from support.delivery import broadcast
    from support.delivery.dispatch import dispatch
    from support.delivery.senders import sender_for
    from support.incidents import core
    from support.intake.ingest import ingest_batch
    from tests.discord_server import DiscordServer
    from tests.incident_parts import Smtp, discord_message, x_mention

    clock = SimClock()
    sent_at: dict[str, list[float]] = {}
    with DiscordServer() as discord, __import__("tests.x_server", fromlist=["XServer"]).XServer(
            clock=clock, limits={"post": 100_000}) as x, Smtp() as smtp:
        os.environ.update({"TRKV_DISCORD_TOKEN": "test-bot-token", "TRKV_DISCORD_GUILD_ID": "1200000000000000000",
                           "TRKV_DISCORD_API_BASE": discord.api_base, "TRKV_DISCORD_GATEWAY_URL": discord.gateway_url,
                           "TRKV_X_API_BASE": x.base_url, "TRKV_X_CONSUMER_KEY": "ck", "TRKV_X_CONSUMER_SECRET": "cs",
                           "TRKV_X_ACCESS_TOKEN": "at", "TRKV_X_ACCESS_TOKEN_SECRET": "ats",
                           "TRKV_SMTP_HOST": "127.0.0.1", "TRKV_SMTP_PORT": str(smtp.port), "TRKV_SMTP_STARTTLS": "0"})
        from trkv.settings import reset_settings

        settings = reset_settings()
        sender_for("x", settings).budget.clock = clock  # X's posting window runs on the simulated clock
        inbounds = []
        for n in range(conversations):
            share = n % 10
            if share < 5:
                inbounds.append(x_mention(x, n, f"API answers 502 #{n}"))
            elif share < 8:
                inbounds.append(discord_message(discord, n, f"site down, bad gateway #{n}"))
            else:
                inbounds.append(Inbound(channel="email", external_id=f"b{n}@mail", text=f"502 errors #{n}",
                                        author_id=f"p{n}@example.com", author_email=f"p{n}@example.com",
                                        author_handle=f"p{n}@example.com", subject="TRKV down"))
        refs = [f"TRKV-{r.ticket_id}" for r in ingest_batch(inbounds, live=False, settings=settings)]
        incident = declare(settings, "Bench: fan-out", refs)
        wall = time.perf_counter()
        sim_start = clock.now
        core.post_update(incident, "identified", "A bad deploy; rolling back.", core.Actor("bench@trkv.test", "lead"),
                         settings=settings)
        while True:
            now = datetime.fromtimestamp(clock.now, UTC)
            with transaction(settings.db_url) as session:
                broadcast.release(session, settings, now)
            with session_factory(settings.db_url, readonly=True)() as session:
                rows = session.execute(select(Outbox.id, Outbox.channel).where(Outbox.status == "queued")).all()
                held = session.execute(select(Outbox.id).where(Outbox.status == "held")).first()
            for outbox_id, channel in rows:
                if dispatch(outbox_id, settings).status == "sent":
                    sent_at.setdefault(channel, []).append(clock.now)
            with transaction(settings.db_url) as session:  # the budgets' windows count on simulated time
                session.execute(update(Outbox).where(Outbox.status == "sent", Outbox.sent_at > now)
                                .values(sent_at=now))
            if not rows and held is None:
                break
            clock.now += 30
        wall = time.perf_counter() - wall
        with session_factory(settings.db_url, readonly=True)() as session:
            failed = session.execute(select(Outbox.id).where(Outbox.status == "failed")).all()
    budgets = broadcast.budgets(settings)
    worst = {channel: max_in_window(times, budgets[channel][1]) for channel, times in sent_at.items()}
    return {"conversations": conversations, "sent": {c: len(t) for c, t in sent_at.items()}, "failed": len(failed),
            "simulated_minutes": round((clock.now - sim_start) / 60, 1), "wall_seconds": round(wall, 1),
            "most_in_any_window": worst, "budgets": {c: {"sends": b[0], "window_s": b[1]} for c, b in budgets.items()},
            "within_budget": all(worst[c] <= budgets[c][0] for c in worst)}


def max_in_window(times: list[float], window: float) -> int:
    times, best, left = sorted(times), 0, 0
    for right, t in enumerate(times):
        while t - times[left] >= window:
            left += 1
        best = max(best, right - left + 1)
    return best


# 4: burst -> proposal ---------------------------------------------------------------


def proposal_latency(settings, bursts: int = 10) -> dict:
    from storage.db import session_factory
    from storage.models.incidents import Incident
    from support.incidents import core
    from support.intake.ingest import ingest
    from tests.incident_burst import inbound
    from tests.incident_corpus import TEST_OUTAGE

    latencies, needed, cursor = [], [], 0
    for b in range(bursts):
        for n in range(len(TEST_OUTAGE)):  # until the proposal: the threshold message is the one that makes it
            message = inbound(n, TEST_OUTAGE[cursor % len(TEST_OUTAGE)], tag=f"b{b}")
            cursor += 1
            start = time.perf_counter()
            ingest(message, settings=settings)
            elapsed = time.perf_counter() - start
            with session_factory(settings.db_url, readonly=True)() as session:
                proposal = session.execute(select(Incident.id).where(Incident.status == "proposed")).scalar()
            if proposal is not None:
                latencies.append(elapsed)
                needed.append(n + 1)
                break
        assert proposal is not None, "the burst proposed nothing"
        core.post_update(proposal, "dismissed", "", core.Actor("bench@trkv.test", "lead"), settings=settings)
    return {"bursts": bursts, "p50_s": pct(latencies, 0.5), "max_s": round(max(latencies), 4), "target_s": 5.0,
            "messages_until_proposal": needed, "min_contacts": settings.incident_min_contacts}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--rates", default="100,200,500", help="open-loop request rates for /status, per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--name", default="incidents", help="bench/results/<name>.json")
    parser.add_argument("--note", default="", help="what else the machine was doing")
    parser.add_argument("--parts", default="visible,load,proposal,fanout",
                        help="which measurements to run (the others keep their figures from the last run)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    path = ROOT / "bench" / "results" / f"{args.name}.json"
    kept = json.loads(path.read_text()) if path.exists() else {}
    kept = kept.get("figures", kept)
    home = Path(tempfile.mkdtemp(prefix="bench-incidents-"))
    settings = make_settings(args.db, home, {})
    web = Web(home)
    results = {k: kept[k] for k in ("visible_on_status", "status_under_load", "burst_to_proposal", "fan_out",
                                     "load_average_1m_before_fan_out") if k in kept}
    load_at_start = round(os.getloadavg()[0], 1)
    try:
        if "visible" in parts:
            results["visible_on_status"] = visible(settings, web)
        if "load" in parts:
            results["status_under_load"] = [status_load(web, float(r), args.seconds) for r in args.rates.split(",")]
    finally:
        web.stop()
    if "proposal" in parts:
        results["burst_to_proposal"] = proposal_latency(settings)
    if "fanout" in parts:
        home = Path(tempfile.mkdtemp(prefix="bench-incidents-fanout-"))  # its own database: only the fan-out's sends
        results["load_average_1m_before_fan_out"] = round(os.getloadavg()[0], 1)
        results["fan_out"] = fan_out(make_settings(args.db, home, {}, "_fanout"), args.conversations)
    from bench import record

    record.write(args.name, {"parts_measured": sorted(parts), "db": args.db,
                             "load_average_1m_at_start": load_at_start,
                             "load_average_1m_at_end": round(os.getloadavg()[0], 1),
                             "data_split": "tests/incident_corpus.py TEST (never tuned on)", **results}, note=args.note)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
