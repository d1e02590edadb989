#!/usr/bin/env python3
"""Build the demo feed, `connectors/demo/feed.jsonl`.

    python connectors/demo/build_feed.py

The message texts below are hand-written. This script only wraps them in the
native payloads each platform really sends (a Discord gateway MESSAGE_CREATE data
dict, an X API v2 tweet with its `includes`, a raw RFC 822 message), gives them
realistic ids and times, and spaces them so the feed plays over about 20 minutes.
The output is deterministic: re-running the script changes nothing unless the
texts do. Each line's context carries the label its author meant (priority and
category), so the demo doubles as a small sanity check for triage.

Standard library only, so it runs without the project installed.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "connectors" / "demo" / "feed.jsonl"
START = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # a Monday afternoon in Europe
FIRST_ATS = (0.4, 1.3, 2.1, 3.0, 4.2)  # the first tickets must show up within seconds
LAST_AT = 1195.0  # about 20 minutes at speed 1

C, H, M, L = "critical", "high", "medium", "low"
BUG, FEAT, Q, DOCS, GEN, NOACT = (
    "bug_report", "feature_request", "support_question", "documentation", "general", "no_action",
)

# --- Discord: the "TRKV Support" server ------------------------------------------

DISCORD_EPOCH_MS = 1420070400000
GUILD_ID = "1187335617449312316"
BOT = {"id": "1189467302154272859", "username": "TRKV", "global_name": "TRKV Bot", "bot": True}

_CATEGORY_IDS = {
    "Announcements": "1187335618011349043",
    "General Discussion": "1187335618011349044",
    "Support Tickets": "1187335618011349045",
    "Feature Requests": "1187335618011349046",
    "Bug Reports": "1187335618011349047",
    "Documentation": "1187335618011349048",
}
# key: (id, type, name, category). Type 0 is a text channel, 15 a forum.
CHANNELS = {
    "general": ("1187335618640502824", 0, "general", "General Discussion"),
    "support": ("1187335619231895613", 0, "support", "Support Tickets"),
    "help": ("1191842253964816454", 15, "help-forum", "Support Tickets"),
    "feature-requests": ("1187335619743596594", 0, "feature-requests", "Feature Requests"),
    "bug-reports": ("1187335620263682148", 0, "bug-reports", "Bug Reports"),
    "docs": ("1187335620775399505", 0, "docs-feedback", "Documentation"),
}

# username: (user id, global_name or None). Ids are snowflakes from when the accounts were made.
DISCORD_USERS = {
    "mkowal": ("402157718592503808", "Marta K."),
    "dev_tomasz": ("289466476003278848", "Tomasz"),
    "pixelpriya": ("712398265431883806", "Priya ✦"),
    "grumpycat_ops": ("197434872374657024", None),
    "lena.codes": ("854310297526583316", "Lena"),
    "j0nas": ("311592740331421697", "Jonas"),
    "ana_sofia": ("938114526902571028", "Ana Sofía"),
    "ricky_b": ("1062482759118667806", "Ricky 🚀"),
    "hx_wang": ("547812306294734849", "Haoxuan Wang"),
    "bea_ops": ("685219034715881523", "Beatriz | SRE"),
    "notsam": ("1130582617302024294", "sam"),
    "oluwaseun.dev": ("781604219852185620", "Seun"),
    "kiki": ("1274018375612194899", "Kiki"),
    "freebies4u": ("1309712483305885756", "Nitro Gifts"),
    "thedocsnerd": ("503911873482620939", "Inês"),
    "arjun_k": ("620471598322286612", "Arjun Kapoor"),
    "mattie": ("1011295468736340008", "Matt"),
    "yuki.t": ("893320157493706812", "Yuki Tanaka"),
    "zoe_m": ("745038127605116979", "Zoë Müller"),
    "devon": ("356870284914032640", "Devon"),
    "c0rentin": ("977205113880444938", "Corentin"),
    "nora_pm": ("1098227810360483931", "Nora"),
    "bytebandit": ("261905719384096768", None),
    "wh1tehat": ("1236677008163324014", "Alex (security)"),
    "plant_dad": ("1150417763841073162", "Omar"),
}

# --- X: @trkvbot ------------------------------------------------------------------

TWITTER_EPOCH_MS = 1288834974657
X_BOT = {"id": "1702948112239046656", "username": "trkvbot", "name": "TRKV Support"}
# username: (user id, display name)
X_USERS = {
    "kaylabuilds": ("1354822069418717188", "Kayla ✨ building things"),
    "dpark_dev": ("2834517750", "Daniel Park"),
    "ohmygoshjess": ("887266135", "jess"),
    "sre_mike": ("1480337529812791296", "Mike | SRE"),
    "leo_valdez": ("118904766", "Leo Valdez"),
    "nat_codes": ("1599125083342508033", "Natalia 👩‍💻"),
    "theRealBenji": ("3307785014", "Benji"),
    "growthhacker_99": ("1719874402983133184", "Growth Hacks 💯"),
    "amaraokafor": ("961042813557211136", "Amara Okafor"),
    "tkachenko_ua": ("1238826155", "Oleh Tkachenko"),
    "priyankaaa": ("1650244310955876353", "priyanka 🌸"),
    "cryptomoonshot_x": ("1725230817104715776", "MoonShot Signals 🚀🌕"),
    "fionahq": ("22176530", "Fiona @ Quillhouse"),
    "raulgarcia": ("75520934", "Raúl García"),
    "dev_dan_": ("1425996102438617089", "Dan"),
    "marisol_ux": ("1161880915", "Marisol Reyes"),
    "chris_k_tweets": ("409582166", "Chris K"),
    "hannah_ops": ("1519003864190353410", "Hannah"),
    "justin_tech": ("3159728041", "Justin | cloud & coffee"),
    "ellie_writes": ("2482911406", "Ellie"),
    "pm_tariq": ("1287461132867518464", "Tariq"),
    "sophie_l": ("4824961187", "Sophie Laurent"),
}

# --- Email: support@trkv-web.app --------------------------------------------------

SUPPORT = Address("TRKV Support", "support", "trkv-web.app")
# key: (name, address, UTC offset in hours, mail client, signature)
PEOPLE = {
    "marta": ("Marta Kowalczyk", "marta.kowalczyk@fernhill-logistics.pl", 1, "outlook",
              "Marta Kowalczyk\nHead of Operations | Fernhill Logistics Sp. z o.o.\n+48 22 418 90 12"),
    "greg": ("Greg Hollis", "greg@hollisandco.com", -5, "gmail", "Greg\n\nHollis & Co. Landscaping"),
    "jose": ("José Álvarez", "jalvarez@cafeteria-sol.es", 1, "apple", "José Álvarez\nCafetería Sol · Sevilla"),
    "ingrid": ("Ingrid Halvorsen", "ingrid.halvorsen@uib-research.no", 1, "outlook",
               "Dr. Ingrid Halvorsen\nResearch Data Manager\nUniversity Research Office, Bergen"),
    "priya": ("Priya Raman", "priya.raman@northwind-analytics.com", 5.5, "gmail",
              "Priya Raman | Engineering Manager\nNorthwind Analytics"),
    "kevin": ("Kevin O'Brien", "kevin.obrien@brightpath.io", -8, "gmail", "-- \nKevin O'Brien\nBrightPath · Product"),
    "taro": ("山田 太郎", "t.yamada@sakura-works.jp", 9, "generic", "山田 太郎 (Taro Yamada)\nSakura Works 株式会社"),
    "soren": ("Søren Kjær", "soren@kjaer.dk", 1, "apple", "Søren"),
    "lucia": ("Lucía Fernández", "lucia.fernandez.m@gmail.com", 1, "gmail", ""),
    "aisha": ("Aisha Bello", "aisha@lagoshub.ng", 1, "gmail", "Aisha Bello\nCommunity Lead, LagosHub"),
    "mark": ("Mark Davidson", "mark.davidson@acme-retail.co.uk", 0, "outlook",
             "Mark Davidson\nIT Security Manager | Acme Retail Group\n"
             "This email and any attachments are confidential."),
    "helen": ("Helen Cho", "helen.cho@cho-legal.com", -5, "outlook",
              "Helen Cho\nManaging Partner\nCho & Associates LLP"),
    "ravi": ("Ravi Patel", "ravi@patelbuilds.dev", 0, "generic", "ravi"),
    "emma": ("Emma Thompson", "emma.t@thompsonbakery.co.uk", 0, "apple",
             "Emma x\n\nThompson's Bakery\nSent from my iPad"),
    "lan": ("Nguyễn Thị Lan", "lan.nguyen@saigonsoft.vn", 7, "gmail", "Nguyễn Thị Lan\nQA Lead, SaigonSoft"),
    "brandon": ("Brandon Lee", "brandon@leeventures.com", -8, "apple", "Sent from my iPhone"),
    "claire": ("Claire Dubois", "claire.dubois@atelier-dubois.fr", 1, "apple",
               "Claire Dubois\nAtelier Dubois — Architecture intérieure"),
    "tom": ("Tom Becker", "tom.becker@becker-it.de", 1, "generic",
            "Mit freundlichen Grüßen / Kind regards\nTom Becker\nBecker IT-Service GmbH\nAmtsgericht Köln HRB 81234"),
    "ap": ("Globex Accounts Payable", "accounts-payable@globex-corp.com", -6, "outlook",
           "Globex Corp. Accounts Payable"),
    "sarah": ("Sarah Mitchell", "sarah@mitchellmedia.co", -5, "gmail", "Sarah Mitchell\nFounder, Mitchell Media"),
    "oliver": ("Oliver Grant", "oliver.grant@grantarchitects.com", 0, "outlook",
               "Oliver Grant RIBA\nDirector | Grant Architects\n020 7946 0321"),
    "jamal": ("Jamal Williams", "jamal@williamsfitness.com", -6, "gmail", "Jamal"),
    "jiwoo": ("Park Ji-woo", "jiwoo.park@hanbit.kr", 9, "gmail", "박지우 Ji-woo Park\nHanbit Studio"),
    "fatima": ("Fatima Zahra El Amrani", "fatima.zahra@marrakech-tours.ma", 1, "gmail", "Fatima Zahra"),
    "peter": ("Peter Novák", "peter.novak@novak-stavby.cz", 1, "generic", "Peter Novák\nNovák stavby s.r.o."),
    "seo": ("Digital Growth Team", "outreach@rankboost-agency.biz", 5, "generic", ""),
    "crypto": ("Mr. Richard Owens", "r.owens.transfers@mail-secure-ng.com", 1, "generic", ""),
    "dana": ("Dana Whitfield", "dana.whitfield@brightpath.io", -8, "gmail", "Dana Whitfield\nBrightPath · Ops"),
    "nick": ("Nick Adeyemi", "nick@adeyemi.studio", 0, "apple", "Nick"),
    "rachel": ("Rachel Stein", "rachel.stein@cho-legal.com", -5, "outlook",
               "Rachel Stein\nIT Administrator\nCho & Associates LLP"),
}

SPECS: list[dict] = []


def D(user, where, text, prio, cat, *, key=None, reply=None, title=None, files=()):  # noqa: N802
    """A Discord message. `where`: a channel key, "forum:<key>" (a post in #help-forum),
    "thread:<key>" (a thread started from message <key>), or "dm"."""
    SPECS.append(dict(channel="discord", user=user, where=where, text=text, prio=prio, cat=cat,
                      key=key, reply=reply, title=title, files=files))


def X(user, text, prio, cat, *, key=None, reply=None):  # noqa: N802
    """A post mentioning @trkvbot. `reply`: key of the post it answers; "bot:<key>"
    answers our (not replayed) reply to <key>, so it joins <key>'s conversation."""
    SPECS.append(dict(channel="x", user=user, text=text, prio=prio, cat=cat, key=key, reply=reply))


def E(who, subject, body, prio, cat, *, key=None, reply=None, via_ack=False, quote=False,  # noqa: N802
      html=False, kind="mail"):
    """An email to support@. `reply`: key of an earlier demo email this answers;
    `via_ack` makes it answer our acknowledgement of that email instead."""
    SPECS.append(dict(channel="email", who=who, subject=subject, body=body, prio=prio, cat=cat, key=key,
                      reply=reply, via_ack=via_ack, quote=quote, html=html, kind=kind))


# =====================================================================================
# The feed, in the order it plays. Hand-written; a Monday afternoon at TRKV with an
# outage in the middle.
# =====================================================================================

# --- the first minutes: an ordinary Monday ---------------------------------------------

D("mkowal", "support",
  "hey, is anyone else getting logged out every few minutes since this morning? chrome 131 on two different "
  "laptops, Business plan. I have to re-enter 2FA every time which is getting old fast",
  H, BUG, key="d-logout")
X("kaylabuilds",
  "@trkvbot hey! is there a way to make the calendar view start the week on Monday? can't find it anywhere 🙏",
  M, Q, key="x-weekstart")
E("greg", "Charged twice for November",
  "Hi there,\n\nI just looked at my card statement and TRKV charged me twice on Nov 1st, $96.00 each, both say "
  "TRKV*TEAM PLAN. We only have the one workspace (Hollis & Co) and 8 users.\n\nCan you refund the duplicate? "
  "Invoice number on the first one is INV-2026-11-04471, I don't see a second invoice in the billing page at all.\n\n"
  "Thanks",
  H, Q, key="e-doublecharge")
D("dev_tomasz", "bug-reports",
  "`GET /api/v2/projects?sort=updated_at&page=3` returns some of the same items as page 2. per_page=50, workspace "
  "has ~400 projects. Reproducible every time. Happens with the official python client too.",
  H, BUG, key="d-pagination")
X("dpark_dev",
  "@trkvbot dashboard takes 8-10s to load for our workspace (~40 projects). It was ~2s last week. Did something "
  "change? Chrome devtools shows /api/v2/widgets/summary taking most of it",
  M, BUG, key="x-slowdash")
D("pixelpriya", "feature-requests",
  "Dark mode please 🌙 my eyes at 1am are begging. bonus points if it follows the OS setting instead of being "
  "yet another toggle",
  L, FEAT, key="d-darkmode")
E("jose", "Consulta sobre exportación de datos",
  "Hola,\n\nsomos una cafetería pequeña y usamos TRKV para los turnos y los pedidos a proveedores. ¿Es posible "
  "exportar todos los proyectos a CSV de una vez? Solo encuentro la opción de exportar tablero por tablero.\n\n"
  "Sorry for my English — is it possible to export everything at once? We have 23 boards.\n\n"
  "Muchas gracias,",
  L, Q, key="e-export-es")
D("grumpycat_ops", "support",
  "SAML SSO with Okta is broken for us. after the IdP redirect we land right back on /login, no error. re-uploaded "
  "the SP metadata twice. workspace slug acme-ops. anything in your logs?",
  H, BUG, key="d-sso")
X("ohmygoshjess",
  "ok @trkvbot the new kanban drag animations are SO smooth 😍 whoever did that deserves a raise",
  L, GEN)
D("lena.codes", "forum:webhook-sig",
  "I'm verifying `X-TRKV-Signature` as HMAC-SHA256 of the body with the secret from Settings → Webhooks, but it "
  "never matches. Node 20 + express, `app.use(express.json())`. Am I hashing the wrong thing?",
  H, Q, title="Webhook signature never validates")
E("ingrid", "Question about data residency (EU hosting)",
  "Dear TRKV team,\n\nOur university is evaluating TRKV for three research groups. Before we can proceed, our data "
  "protection officer needs to know:\n\n1. In which region(s) is customer data stored?\n2. Are backups kept in the "
  "same region?\n3. Do you offer a Data Processing Agreement under GDPR art. 28?\n\nA short written answer would be "
  "enough for now.\n\nWith kind regards,",
  L, Q, key="e-residency")
D("j0nas", "general",
  "Guten Morgen zusammen! anyone here using TRKV for hardware sprints? curious how you handle 12-week lead times "
  "on parts without the board turning into a graveyard",
  L, GEN)
X("sre_mike",
  "@trkvbot getting 429s from the API at ~150 req/min, docs say Team gets 600/min. Are limits per token or per "
  "workspace? need to know before we roll out our sync job tomorrow",
  H, Q, key="x-ratelimit")
D("ricky_b", "feature-requests",
  "would LOVE a keyboard shortcut to move a card to the next column!!! like alt+→ 🙌🙌 I move like 200 cards a day",
  L, FEAT)
E("priya", "Slack notifications going to an archived channel",
  "Hi,\n\nWe renamed our Slack channel #proj-alpha to #alpha-eng last week and archived the old one. TRKV keeps "
  "posting board notifications to the archived #proj-alpha (we can see them when we unarchive it). Picking the new "
  "channel in Board settings → Integrations → Slack saves, but after a refresh it shows #proj-alpha again.\n\n"
  "I've disconnected and reconnected the Slack app, same result. Workspace: northwind. Board: Alpha Platform.\n\n"
  "Thanks,",
  H, BUG, key="e-slack", html=True)
D("hx_wang", "forum:ratelimit-headers",
  "When we hit a 429 the response has no `Retry-After`, only `X-RateLimit-Reset`, and that looks like milliseconds "
  "since epoch, not seconds like the docs say. Our backoff slept for 50 years 😅",
  H, BUG, title="429 responses: no Retry-After, reset header in ms?")
X("leo_valdez",
  "@trkvbot can't log in with Google since this morning, the button just spins forever. tried incognito and "
  "another browser, same thing. help?",
  H, BUG, key="x-google")
E("kevin", "Feature request: recurring tasks",
  "Hey team,\n\nLong-time user, first-time emailer. We run weekly ops reviews and monthly invoicing in TRKV, and "
  "every week someone has to duplicate last week's card and fix the dates. What we'd love:\n\n- a 'repeat' option "
  "on a task (weekly / monthly / custom cron-ish)\n- the new copy created N days before due, not on completion\n"
  "- checklist reset on the new copy\n\nI know there's a Zapier workaround but it breaks whenever someone renames "
  "the board. Happy to jump on a call if useful.\n\nCheers,",
  L, FEAT, key="e-recurring")
D("thedocsnerd", "docs",
  "Two small things in the Webhooks guide: 'recieve' in the Retries section, and the example payload uses "
  "`created` while the real events send `created_at`. The second one cost me 20 minutes 🙃",
  L, DOCS)
D("kiki", "support",
  "hi sorry if this is a dumb question but how do I invite my team?? I only see 'share board' and that gives a "
  "read only link",
  L, Q, key="d-invite")
X("nat_codes",
  "@trkvbot is the trkv CLI open source? wanted to send a PR for a --json flag on `trkv tasks ls`",
  L, Q)
E("taro", "CSVエクスポートの文字化けについて / Garbled characters in CSV export",
  "TRKVサポートご担当者様\n\nいつもお世話になっております。\nボードをCSVでエクスポートしてExcelで開くと、日本語のタスク名が"
  "すべて文字化けします（例：「æ–°è¦é–‹ç™º」）。\n\nIn English: when we export a board to CSV and open it in "
  "Excel, all Japanese task names are garbled. Google Sheets shows them correctly, so maybe the file has no BOM?\n\n"
  "よろしくお願いいたします。",
  M, BUG, key="e-csv-jp")
D("arjun_k", "support",
  "Business plan, 180 seats. SCIM provisioning from Azure AD stopped creating users yesterday ~16:00 UTC. "
  "Deprovisioning still works. Azure provisioning log: `SCIM endpoint returned 500 for POST /Users`. Can someone "
  "look? New hires can't get in.",
  H, BUG, key="d-scim")
D("devon", "feature-requests",
  "Custom fields: can we get a formula field type? e.g. `estimate_hours * rate`. Right now we export to Sheets "
  "just to multiply two numbers, which feels silly for a tool this good",
  L, FEAT)
X("theRealBenji",
  "@trkvbot love the app but the mobile web view zooms in every single time I tap the comment box 😩 iOS 18 "
  "safari. have to pinch out after every comment",
  M, BUG, key="x-zoom")
E("soren", "Invitation emails not arriving",
  "Hi,\n\nI've invited 4 colleagues (all @kjaer.dk) to our workspace twice now. The members page says 'Invite "
  "sent' but nobody gets the email, not even in spam. Invites to my gmail address arrive fine.\n\n"
  "Is there a way to get the invite link directly so I can send it myself?\n\nBest,",
  H, BUG, key="e-invites")
D("notsam", "general",
  "<@bot> is there a status page somewhere? I keep checking twitter to see if things are down lol",
  L, Q)
X("amaraokafor",
  "Shoutout to @trkvbot support, sorted my billing mess in 10 minutes on a Sunday. rare these days 👏",
  L, GEN)
D("oluwaseun.dev", "bug-reports",
  "Markdown tables in task descriptions render fine in the editor preview, but in the read view the pipes show up "
  "raw. Screenshot attached. Firefox and Chrome both.",
  M, BUG, files=(("table-render.png", "image/png", 184233),))
E("lucia", "No puedo cambiar mi contraseña / can't change password",
  "Hi,\n\nWhen I try to change my password in Settings → Security it says \"Current password is incorrect\" but "
  "it is correct, I just logged in with it 2 minutes ago. I use a password manager. My password has a ñ in it, "
  "could that be the problem?\n\nLucía",
  H, BUG, key="e-password")
D("bytebandit", "general",
  "hot take: gantt charts are a myth invented by consultants to sell more gantt charts",
  L, GEN)
X("growthhacker_99",
  "@trkvbot 🚀 Grow your followers 10x FAST! Real & active accounts 💯 DM us for a FREE trial 👉 "
  "https://growthhackz.example/free",
  L, NOACT)
D("zoe_m", "forum:guest-removal",
  "I removed a guest (freelancer, contract ended) from the workspace on Friday, but she still shows up in the "
  "assignee list of the Marketing project and she told me she still gets notification emails with task "
  "contents!! That's not OK for us, client data is in there.",
  H, BUG, title="Removed guest still gets notifications")
E("aisha", "Annual billing in NGN or bank transfer?",
  "Hello TRKV,\n\nWe're a non-profit coworking space in Lagos and would like to move our 25 members to the Team "
  "plan. Our card keeps getting declined for USD subscriptions. Can we pay annually by bank transfer, ideally "
  "invoiced in NGN? Also, do you have a non-profit discount?\n\nThank you!",
  L, Q, key="e-ngn")
X("tkachenko_ua",
  "@trkvbot API q: does /v2/tasks support filtering by custom field? docs only show status & assignee filters",
  L, Q)
D("yuki.t", "support",
  "Due dates show one day earlier than I set them. I pick Nov 28, the card says Nov 27. Profile timezone is "
  "Asia/Tokyo and so is my laptop. Teammates in Berlin see the right date 🤔",
  M, BUG, key="d-tz")
E("mark", "SECURITY: unrecognised API token in our workspace",
  "Hello,\n\nThis morning our audit log (workspace: acme-retail) shows an API token named \"sync\" created at "
  "03:12 UTC by the account of one of our admins, d.price@acme-retail.co.uk. She has been on leave all week and "
  "did not create it. The token was used from 185.220.101.47 (not one of our IPs) to call GET /v2/exports "
  "several times between 03:14 and 03:40 UTC.\n\nWe have revoked the token and reset her password and sessions. "
  "We need, urgently:\n\n1. full request logs for that token, including what was exported\n2. confirmation "
  "whether any other tokens or OAuth grants were created on our workspace in the last 7 days\n3. a call with "
  "your security team today\n\nPlease treat this as a security incident.\n\nRegards,",
  C, Q, key="e-security")
D("c0rentin", "feature-requests",
  "Petite suggestion : ce serait top d'avoir l'interface en français 🇫🇷 la moitié de mon équipe n'est pas à "
  "l'aise en anglais. Happy to help translate btw!",
  L, FEAT)
X("priyankaaa",
  "@trkvbot hiii how do I get the student discount?? signed up with my uni email but checkout still shows full "
  "price 😭",
  L, Q)
D("lena.codes", "forum:webhook-sig",
  "ok found it: express.json() re-serializes the body before my handler sees it, so I was hashing different "
  "bytes. `express.raw({type: 'application/json'})` on that route and it validates now. maybe worth a big "
  "warning in the docs?",
  L, DOCS)
E("helen", "URGENT: board missing after workspace merge",
  "Hello,\n\nYesterday evening we used Settings → Workspace → Merge to merge our old workspace (cho-legal-old) "
  "into our main one (cho-legal). The merge reported success.\n\nThe board \"Client Matters 2026\", about 1,400 "
  "cards, is not in the merged workspace. It is not in the trash, not in archived boards, and the old workspace "
  "no longer exists. This board is how we track every active client matter and court deadline.\n\nPlease treat "
  "this as urgent. I can be reached at +1 212 555 0148.\n\nHelen",
  C, BUG, key="e-dataloss", html=True)
D("mattie", "support",
  "free plan question: is the 3 project limit per user or per workspace? want to set up one for my band and one "
  "for my side gig",
  L, Q)
X("sre_mike",
  "@trkvbot thanks! so it's per token. follow-up: can we get a higher limit for a service account? happy to pay "
  "for it, the sync job needs ~1k req/min for the first run",
  L, Q, reply="bot:x-ratelimit")
D("ana_sofia", "bug-reports",
  "El botón «Duplicar tablero» no copia las automatizaciones 😕 (the Duplicate board button doesn't copy the "
  "automations, only columns and cards). Is that on purpose? I have 9 rules to recreate by hand",
  M, BUG)
E("brandon", "THIRD time asking - cancel my subscription",
  "I have emailed twice already. I want my account CANCELLED and I do NOT want to be charged again on the 1st.\n\n"
  "The cancel button under Billing just reloads the page. Nothing happens. I've tried Safari and Chrome.\n\n"
  "If I get charged again I'm disputing it with my bank.",
  H, Q, key="e-cancel")
D("hx_wang", "forum:ratelimit-headers",
  "also seeing `X-RateLimit-Remaining: -1` on some responses lol. our client treats that as 'unlimited' 🙃",
  H, BUG)
X("marisol_ux",
  "@trkvbot feature idea: let us pin boards to the sidebar. I have 14 boards and use 2 of them 95% of the time",
  L, FEAT)
D("ricky_b", "general",
  "just hit 1000 completed tasks on my personal board 🎉🎉 this app literally runs my life now",
  L, GEN)
E("claire", "Calendrier vide sur Safari / calendar view blank in Safari",
  "Bonjour,\n\nDepuis la mise à jour de la semaine dernière, la vue Calendrier est complètement vide sur Safari 17 "
  "(macOS Sonoma). Sur Firefox tout fonctionne.\n\nIn short: calendar view is empty on Safari 17, fine on "
  "Firefox. The console shows: \"RangeError: Invalid time value\".\n\nMerci d'avance,",
  M, BUG, key="e-safari")
X("chris_k_tweets",
  "@trkvbot the docs link for the GitHub integration 404s: https://docs.trkv-web.app/integrations/github-app "
  "(it's the top google result)",
  L, DOCS)
D("dev_tomasz", "thread:d-pagination",
  "more data: only happens when two projects share the exact same updated_at (bulk edits do that). looks like "
  "the sort has no tiebreaker, so order between equal timestamps is random per query. adding `id` as a "
  "secondary sort would fix it",
  H, BUG, title="Pagination repeats items when sorting by updated_at")
E("tom", "Rechnungsadresse / VAT ID on invoices",
  "Hallo TRKV-Team,\n\nfür unsere Buchhaltung brauche ich auf den Rechnungen unsere USt-IdNr. (DE298761543) und "
  "die vollständige Firmenadresse. Im Billing-Bereich finde ich kein Feld dafür.\n\nIn English: we need our VAT "
  "ID and full company address on invoices, and I can't find where to add them. Can you also re-issue the "
  "invoices for September to November?\n\nDanke!",
  L, Q, key="e-vat")
D("kiki", "support",
  "oh wait found it under Workspace settings → Members. sorry!! 🙈",
  L, Q, reply="d-invite")
X("ellie_writes",
  "@trkvbot small typo on your pricing page: 'unlimted guests' on the Business tier 👀",
  L, DOCS)
D("arjun_k", "thread:d-scim",
  "Update: only users whose displayName contains a comma fail ('Kapoor, Arjun' style, which is our AD "
  "convention). Users without a comma provision fine. Smells like a CSV split somewhere?",
  H, BUG, title="SCIM POST /Users returns 500")
E("ravi", "GitHub integration: PR merges no longer move tasks",
  "hey,\n\nsince ~Thursday our GitHub integration doesn't move tasks to Done when a linked PR is merged. The PR "
  "shows up on the task (so the link works), the status just doesn't change. Repo: patelbuilds/api, rule: "
  "'when PR merged -> move to Done'. Nothing changed on our side.\n\nthe integration page says 'Connected, last "
  "event 4 days ago' which seems wrong since we merged ~30 PRs since then.\n\nravi",
  H, BUG, key="e-github")
D("grumpycat_ops", "thread:d-sso",
  "got a SAML trace. your ACS answers 302 to `/login?error=clock_skew`. our IdP clock is NTP synced, checked "
  "twice. how much skew do you allow? the assertion NotBefore is 0.4s in the 'future' from your side at most",
  H, BUG, title="Okta SSO bounces back to /login")
X("justin_tech",
  "@trkvbot does TRKV have an on-prem or self-hosted option? asking for a bank client, public cloud is a "
  "non-starter for them",
  L, Q)
D("pixelpriya", "bug-reports",
  "The colour picker in label settings closes the moment the mouse leaves the swatch, so you can't reach the hex "
  "input below it. Firefox 133 on macOS. Keyboard tabbing into it works as a workaround",
  M, BUG)
E("fatima", "How to set up automation when checklist is done",
  "Hello,\n\nI want a task to move to the column 'Done' automatically when all of its checklist items are "
  "checked. In the automation builder I can't find this trigger, only 'when a checklist item is checked'. Is it "
  "possible some other way?\n\nThank you for your help,",
  M, Q)
D("notsam", "general",
  "anyone have a good template for content calendars? mine is pure chaos rn",
  L, GEN)
X("raulgarcia",
  "@trkvbot ¿tienen soporte en español? me cobraron en USD y no en EUR este mes y el banco me cobra comisión "
  "por cambio de divisa",
  M, Q)
D("j0nas", "feature-requests",
  "Feature request: ISO week numbers in the timeline header (KW 48 etc.). every German team will thank you, we "
  "plan everything in KW",
  L, FEAT)
E("oliver", "Uploads over 10 MB fail",
  "Hi,\n\nWe're on the Team plan, which according to your pricing page allows files up to 250 MB. Any upload "
  "above roughly 10 MB fails at 100% with 'Upload failed, please try again'. A 9 MB PDF works, a 12 MB one "
  "doesn't. Same in Chrome and Edge, office network and home.\n\nWe share drawing sets with clients through "
  "TRKV, so this is blocking us.\n\nRegards,",
  H, BUG, key="e-upload", html=True)
X("dev_dan_",
  "@trkvbot webhooks for task.deleted never arrive. task.created and task.updated are fine, same endpoint, same "
  "secret. bug or am I holding it wrong?",
  H, BUG, key="x-webhook-deleted")
D("bea_ops", "support",
  "Question on audit log retention: we need 1 year for SOC 2, Business says 90 days. Is there an add-on, or an "
  "API to export audit events so we can keep them ourselves?",
  L, Q)
E("emma", "how do I print a board",
  "Hello,\n\nSorry I'm not very technical. I'd like to print our weekly orders board to pin in the kitchen. When "
  "I press print in the browser it only prints the first column and half of the second.\n\nIs there a print "
  "button somewhere?",
  L, Q, key="e-print")
D("freebies4u", "general",
  "🎁 FREE Discord Nitro for everyone in this server!! claim before it expires → https://dlscord-gifts.example/claim "
  "🎁 @everyone",
  L, NOACT)
X("fionahq",
  "@trkvbot our only workspace owner left the company and we're locked out of admin settings. we still have the "
  "billing email + card. how do we recover ownership?",
  H, Q, key="x-owner")
D("plant_dad", "support",
  "how do I change the email on my account? I signed up with my work email and I'm leaving the job 😬",
  L, Q)

# --- a few more before the trouble starts -------------------------------------------------

E("lan", "Automation runs twice on the same card",
  "Hello TRKV support,\n\nOur rule \"when card moved to QA → assign to Lan and add label 'needs-test'\" runs two "
  "times for every card. I get 2 notifications and the activity log shows the rule executed twice, 1 second apart. "
  "It started after we added a second rule on the same trigger (move to QA → post to Slack).\n\n"
  "Workspace: saigonsoft, board: Mobile App v3.\n\nCảm ơn,",
  M, BUG, key="e-twice")
D("devon", "general",
  "<@bot> is there a public roadmap? I'd rather upvote things than keep spamming #feature-requests 😅",
  L, Q)
X("hannah_ops",
  "@trkvbot CSV import maps 'Due date' fine but ignores 'Start date' completely. tried ISO format and dd/mm/yyyy. "
  "am I missing a column name?",
  M, Q)
D("c0rentin", "bug-reports",
  "Quand je colle du texte depuis Word dans un commentaire, tous les retours à la ligne disparaissent. (pasting "
  "from Word into a comment loses all line breaks) Chrome 131 / Windows 11",
  M, BUG)
E("jamal", "Trainers can see each other's clients",
  "Hi,\n\nI run a gym with 6 trainers. Each trainer has a private board for their clients. I set the boards to "
  "'Private - only invited members' but one trainer could open another trainer's board from a link in a "
  "notification email. He wasn't invited to it.\n\nIs this expected? Some of those cards have health notes.\n\nJamal",
  H, BUG, key="e-private")
X("pm_tariq",
  "@trkvbot timeline view: dependencies arrows disappear when I zoom to 'quarter'. zooming back to 'month' brings "
  "them back. Chrome, Mac",
  M, BUG)

# --- the outage: 502s everywhere ---------------------------------------------------------

D("bea_ops", "bug-reports",
  "app.trkv-web.app is returning 502 Bad Gateway for our whole team right now. API too: `curl -i "
  "https://api.trkv-web.app/v2/me` → 502. Started maybe 2 minutes ago. status page still green.",
  C, BUG, key="d-outage")
X("kaylabuilds",
  "@trkvbot is trkv down?? getting a 502 on literally everything 😭",
  C, BUG, key="x-outage-kayla")
D("notsam", "general",
  "<@bot> everything is 502ing for me, is it just me?? tried two networks",
  C, BUG)
X("sre_mike",
  "@trkvbot API is hard down: 502 on every endpoint from us-east and eu-west probes. our nightly sync is failing. "
  "status page says all systems operational btw, might want to fix that too",
  C, BUG, key="x-outage-mike")
E("marta", "URGENT: TRKV unavailable - 502 errors",
  "Hello,\n\nSince approx. 14:38 CET our entire operations team (60 people) cannot open TRKV: every page returns "
  "\"502 Bad Gateway\". Our dispatch planning runs on TRKV and trucks leave at 16:00.\n\nPlease advise on the "
  "cause and an ETA.\n\nRegards,",
  C, BUG, key="e-outage", html=True)
X("ohmygoshjess",
  "me refreshing @trkvbot every 10 seconds like it owes me money 💀",
  L, GEN)
D("hx_wang", "bug-reports",
  "same here. looks intermittent from Singapore, maybe 1 in 3 requests succeeds",
  C, BUG, reply="d-outage")
X("dpark_dev",
  "@trkvbot 502s here too. at least my slow dashboard is consistently slow now 🙃",
  H, BUG, reply="bot:x-slowdash")
D("mkowal", "support",
  "and now it's completely down for us (EU). was already logging in every 5 min, now I can't at all. is there an "
  "incident?",
  C, BUG, reply="d-logout")
X("theRealBenji",
  "@trkvbot 502 Bad Gateway on the app and the docs site. something's on fire 🔥",
  C, BUG)
E("sarah", "Is TRKV down?",
  "Hi, our whole team is getting 502 errors. Is there an outage? We have a client presentation out of TRKV in an "
  "hour.\n\nSarah",
  C, BUG, key="e-down-sarah")
D("ricky_b", "general",
  "rip my productivity streak 😭 502 gang",
  L, GEN)
X("hannah_ops",
  "@trkvbot down for us too (Berlin). any ETA? status page not updated",
  C, BUG)
D("lena.codes", "general",
  "fwiw the API returns 502 but the websocket for live updates is still connected for me. so probably not the "
  "whole stack",
  L, GEN)
E("marta", "Re: URGENT: TRKV unavailable - 502 errors",
  "Any update? It has been 15 minutes and we have no information. We are now planning today's routes on paper.\n\n"
  "Marta",
  C, BUG, reply="e-outage", via_ack=True, quote=True)
X("kaylabuilds",
  "@trkvbot ok it's loading again for me! what happened? 👀",
  L, Q, reply="bot:x-outage-kayla")
D("bea_ops", "thread:d-outage",
  "it's back for us. but webhook deliveries from the outage window never arrived, our endpoint logged nothing "
  "between 14:38 and 14:57. are they queued or gone?",
  H, BUG, title="502 outage 23 Nov")
X("sre_mike",
  "@trkvbot API recovered at 14:57 CET per our probes. please post a proper incident report, we had a missed "
  "SLA on our side because of this",
  H, Q, reply="bot:x-outage-mike")
D("notsam", "general",
  "we're so back",
  L, GEN)
E("marta", "Re: URGENT: TRKV unavailable - 502 errors",
  "Access is back for most of the team as of 14:58 CET. Some users still get 502 on the Reports page.\n\nPlease "
  "confirm when this is fully resolved and send us an incident report (cause, duration, prevention); we need it "
  "for our own customers.\n\nThank you,",
  H, BUG, reply="e-outage", via_ack=True, quote=True)
X("dev_dan_",
  "@trkvbot since the outage every webhook delivery to us is ~20 min late. backlog draining or still broken?",
  H, BUG, reply="bot:x-webhook-deleted")
D("mkowal", "bug-reports",
  "after the outage, 2 tasks we created at 14:35 CET are gone. not in trash, not in activity log. we have the "
  "Slack notifications proving they existed (TRK-8812, TRK-8813). so writes right before the outage were lost?",
  C, BUG, key="d-lost-tasks", files=(("slack-proof.png", "image/png", 96210),))
X("tkachenko_ua",
  "@trkvbot comments I posted during the outage showed 'sending…' forever and vanished after reload. are they "
  "lost or will they sync?",
  H, BUG)
D("yuki.t", "bug-reports",
  "Reports page still 502 for me (Tokyo), everything else works again",
  H, BUG)
E("greg", "Re: Charged twice for November",
  "Following up on this - also, was the site down just now? Couldn't get in for 20 minutes.\n\nGreg",
  M, Q, reply="e-doublecharge", quote=True)
X("amaraokafor",
  "@trkvbot back up for me now 🙏 hope whoever is on call gets a coffee",
  L, GEN)
D("oluwaseun.dev", "general",
  "<@bot> will there be a postmortem for today's outage? asking because my boss is asking 😅",
  L, Q)

# --- the afternoon after: follow-ups, and the usual stream --------------------------------

E("ingrid", "Automatic reply: Question about data residency (EU hosting)",
  "Thank you for your message. I am out of the office until Monday 30 November with limited access to email.\n\n"
  "For urgent matters please contact research-data@uib-research.no.\n\nIngrid Halvorsen",
  L, NOACT, reply="e-residency", via_ack=True, kind="autoreply")
D("wh1tehat", "dm",
  "Hi, security researcher here. I found a stored XSS in public share links: a task title like "
  "`<img src=x onerror=alert(document.domain)>` executes when the public link is opened, and the page runs on "
  "app.trkv-web.app so it can read the viewer's session if they're logged in. I have a PoC video. Is there a "
  "security contact / bug bounty? I won't disclose publicly until you've fixed it.",
  C, BUG, key="d-xss")
X("leo_valdez",
  "@trkvbot still can't log in with Google. it's been 6 hours. password reset email also hasn't arrived. kind "
  "of desperate here, client deadline tomorrow",
  H, BUG, reply="x-google")
D("zoe_m", "forum:guest-removal",
  "update: she just forwarded me another notification from 20 minutes ago. so it's still happening 3 days later",
  H, BUG)
E("helen", "Re: URGENT: board missing after workspace merge",
  "I have not received any reply beyond the automatic acknowledgement. We have a filing deadline on Wednesday "
  "and several of the cards hold the only copy of our notes for it.\n\nOur IT administrator, Rachel Stein, is "
  "copied and can give you any access you need.\n\nHelen Cho",
  C, BUG, reply="e-dataloss", via_ack=True, quote=True)
D("nora_pm", "feature-requests",
  "+1000 to recurring tasks. also would love 'snooze until date' for cards, like in email",
  L, FEAT)
X("nat_codes",
  "@trkvbot the API docs say `assignee_ids` but the response has `assignees` (objects). which one is right for "
  "PATCH? the example 400s",
  M, DOCS)
D("dev_tomasz", "thread:d-pagination",
  "workaround for anyone else hitting this: sort by `created_at` instead, those are unique enough. still a bug "
  "though",
  M, BUG)
E("priya", "Re: Slack notifications going to an archived channel",
  "One more data point: if I create a brand new board and connect it to #alpha-eng, that works. Only existing "
  "boards are stuck on the old channel.\n\nPriya",
  H, BUG, reply="e-slack", quote=True)
D("bytebandit", "bug-reports",
  "search is case sensitive for tags but not for titles. searching `#Backend` finds nothing, `#backend` finds "
  "40 cards. pick one 🙂",
  M, BUG)
X("sophie_l",
  "@trkvbot bonjour ! is there a way to hide completed subtasks? my checklists are 80% strikethrough at this "
  "point",
  L, Q)
E("aisha", "Re: Annual billing in NGN or bank transfer?",
  "Hi again, just to add: we'd need a formal quote/proforma invoice for our board to approve the payment. Thank "
  "you!\n\nAisha",
  L, Q, reply="e-ngn")
D("arjun_k", "thread:d-scim",
  "confirmed with a test user 'Test, Comma' → 500. 'Test Comma' → 201. we're renaming 14 new hires manually for "
  "now but that breaks our naming policy",
  H, BUG)
X("growthhacker_99",
  "@trkvbot 🔥 Want 5,000 REAL followers by Friday? Limited slots! 👉 https://growthhackz.example/boost",
  L, NOACT)
D("pixelpriya", "feature-requests",
  "could the card cover images be cropped to a consistent height? one tall screenshot makes the whole column a "
  "mile long",
  L, FEAT)
E("kevin", "Re: Feature request: recurring tasks",
  "Quick addition from my colleague Dana: she'd want the repeat to skip weekends/holidays. Not a dealbreaker "
  "though!\n\nKevin",
  L, FEAT, reply="e-recurring", via_ack=True)
X("justin_tech",
  "@trkvbot follow up: does the Enterprise plan at least offer a dedicated region or customer-managed keys? "
  "that might get us past their security review",
  L, Q)
D("kiki", "support",
  "ok one more question 🙈 how do I make a card repeat every week? like 'water the plants'",
  L, Q)
E("brandon", "Re: THIRD time asking - cancel my subscription",
  "Still no response. Tried again, still reloads. I've screenshotted everything.",
  H, Q, reply="e-cancel", via_ack=True)
D("hx_wang", "forum:ratelimit-headers",
  "for anyone reading later: treating the reset header as ms works. would still love a `Retry-After` since every "
  "HTTP client library understands it out of the box",
  M, FEAT)
X("marisol_ux",
  "@trkvbot also the 'new board' modal has two primary buttons side by side (Create / Create from template) and "
  "I click the wrong one every time. tiny thing but 😅",
  M, BUG)
D("j0nas", "support",
  "Is it possible to restrict who can create new boards? we have 40 people and now 130 boards, half of them "
  "called 'test'",
  M, Q)
E("jose", "Re: Consulta sobre exportación de datos",
  "Gracias por la respuesta automática. Otra pregunta: ¿la exportación incluye los archivos adjuntos o sólo el "
  "texto?\n\nJosé",
  L, Q, reply="e-export-es", via_ack=True)
D("mattie", "bug-reports",
  "on the free plan the upgrade banner covers the 'Add card' button on mobile. can't add cards on my phone at all "
  "unless I rotate it",
  M, BUG)
X("leo_valdez",
  "@trkvbot update: got in via the magic link option 🙏 Google button still spins though",
  M, BUG, reply="x-google")
E("crypto", "Confidential business proposal",
  "Dear Friend,\n\nI am Mr. Richard Owens, a senior auditor with a reputable bank. I have a business proposal of "
  "mutual benefit involving the transfer of USD 14,500,000.00 (Fourteen Million Five Hundred Thousand US "
  "Dollars) which requires your urgent assistance and strict confidentiality.\n\nKindly reply with your full "
  "name and direct phone number.\n\nYours faithfully,\nMr. Richard Owens",
  L, NOACT)
D("thedocsnerd", "docs",
  "The 'Getting started' page still shows screenshots of the old sidebar (before the October redesign). "
  "confused two of my new teammates today",
  L, DOCS)
X("chris_k_tweets",
  "@trkvbot GitHub integration question: can one TRKV board be linked to multiple repos? our frontend and "
  "backend live separately",
  L, Q)
D("ana_sofia", "support",
  "¿Alguien sabe cómo cambiar el idioma de las notificaciones por correo? Me llegan en inglés aunque la app la "
  "tengo en español. (how do I change the language of email notifications?)",
  L, Q)
E("mark", "RE: SECURITY: unrecognised API token in our workspace",
  "Further to my earlier email: we have now found that the same IP also logged in to the web app as "
  "d.price@acme-retail.co.uk at 03:09 UTC, with a successful 2FA challenge. We believe her authenticator seed "
  "may have been compromised via a phishing page imitating your login.\n\nWe still need the export logs today. "
  "Our DPO must decide on breach notification within 72 hours.\n\nMark",
  C, Q, reply="e-security", via_ack=True, quote=True)
D("devon", "feature-requests",
  "API: bulk endpoints please. moving 300 cards = 300 PATCH calls = instant 429 😩",
  M, FEAT)
X("priyankaaa",
  "@trkvbot found the student plan link in the footer 🎉 maybe put it on the pricing page? ty!!",
  L, DOCS)
D("grumpycat_ops", "thread:d-sso",
  "fixed it ourselves: our Okta app had 'Assertion valid for' set to 0s because someone 'hardened' it. set to "
  "5 min and SSO works. your error page should really say clock_skew instead of silently bouncing to /login though",
  M, FEAT)
E("oliver", "Re: Uploads over 10 MB fail",
  "Further info: uploads over 10 MB work from my phone on 4G but fail from the office and from home on "
  "broadband. Our IT says nothing on our side blocks large uploads.\n\nOliver",
  H, BUG, reply="e-upload", quote=True)
X("raulgarcia",
  "@trkvbot gracias, ya cambié la moneda a EUR en ajustes. ¿me pueden devolver la comisión del banco? 😅",
  L, Q)
D("plant_dad", "general",
  "anyone using TRKV for plant watering schedules or am I the only unhinged one 🪴",
  L, GEN)
E("seo", "Quick question about trkv-web.app",
  "Hi there,\n\nI was checking trkv-web.app and noticed you're not ranking on page 1 for \"project tracker web "
  "app\". We helped 200+ SaaS brands 3x their organic traffic in 90 days.\n\nCan I send you a free audit? Just "
  "reply YES.\n\nBest,\nDigital Growth Team\n\nTo unsubscribe reply STOP",
  L, NOACT)
D("oluwaseun.dev", "bug-reports",
  "The @-mention autocomplete in comments doesn't show guests, only full members. So I can't mention our "
  "client on their own card",
  M, BUG)
X("pm_tariq",
  "@trkvbot is there a way to export the timeline view as PDF for a stakeholder deck? screenshotting 6 times is "
  "not it",
  L, FEAT)
D("yuki.t", "support",
  "follow-up on the due date thing: it's only cards created from the mobile web view. cards created on desktop "
  "are fine",
  M, BUG, reply="d-tz")
E("soren", "Re: Invitation emails not arriving",
  "Update: our IT found the invites in the quarantine of our mail filter. It says SPF softfail for "
  "trkv-web.app. Maybe check your SPF record? We've released them for now.\n\nSøren",
  M, BUG, reply="e-invites", quote=True)
D("lena.codes", "docs",
  "Docs request: a section on verifying webhook signatures in Node/Express specifically, with express.raw(). "
  "I just spent an hour on it (see my post in help-forum). happy to write it if you take PRs",
  L, DOCS)
X("fionahq",
  "@trkvbot thanks for the DM! sent the billing email + last 4 of the card. waiting on verification",
  M, Q, reply="bot:x-owner")
D("notsam", "feature-requests",
  "option to collapse columns on the board? I have a 'Someday' column with 200 cards that I never want to see "
  "but also never want to delete",
  L, FEAT)
E("lucia", "Re: No puedo cambiar mi contraseña / can't change password",
  "I tried a password without ñ on my test account and it works. So it's definitely the ñ (or non-English "
  "letters). Please fix, I don't want to change my password everywhere.\n\nLucía",
  H, BUG, reply="e-password", via_ack=True)
D("bea_ops", "thread:d-outage",
  "also: the status page showed 'All systems operational' the whole time. we rely on its RSS feed to suppress "
  "our own alerts. please make it reflect reality during incidents",
  M, FEAT)
X("ellie_writes",
  "@trkvbot also on the docs: the 'Keyboard shortcuts' page lists ctrl+k for search but it's actually / now",
  L, DOCS)
D("c0rentin", "support",
  "How do I transfer a board to another workspace? I created it in my personal one by mistake 🤦",
  L, Q)
E("taro", "Re: CSVエクスポートの文字化けについて / Garbled characters in CSV export",
  "追加情報です。Excelの「データ → テキストから」でUTF-8を指定すると正しく表示されます。\n\nSo it is the missing "
  "BOM. Could you add a BOM or an 'Excel-compatible' option to the export?\n\n山田",
  M, BUG, reply="e-csv-jp", via_ack=True)
D("ricky_b", "feature-requests",
  "emoji reactions on comments pls!! sometimes I just wanna 👍 instead of writing 'ok thanks'",
  L, FEAT)
X("theRealBenji",
  "@trkvbot the zoom issue is because the comment input font is 14px, iOS zooms on anything under 16px. "
  "one-line CSS fix 😉",
  M, BUG, reply="x-zoom")
D("freebies4u", "support",
  "hey i can help you with your problem, dm me for the official support link 👉 https://trkv-support-desk.example",
  L, NOACT)

# --- later in the afternoon -----------------------------------------------------------

E("rachel", "RE: URGENT: board missing after workspace merge",
  "Hello,\n\nI'm the IT administrator at Cho & Associates. Some details that may help:\n\n- merge started "
  "22 Nov 2026 18:41 EST from Helen's account, finished 18:44\n- source workspace had 11 boards; 10 arrived, "
  "\"Client Matters 2026\" did not\n- that board had 2 custom fields of type 'dropdown' with ~90 options each, "
  "which no other board had\n\nWe have a CSV export of the board from 2 October, but nothing since. Is there any "
  "backup you can restore from?\n\nRachel",
  C, BUG, reply="e-dataloss", via_ack=True, quote=True, html=True)
X("hannah_ops",
  "@trkvbot data loss: I re-imported a CSV to update 30 tasks and it overwrote 3 weeks of time entries on ALL "
  "tasks in the board with blanks. there was no warning. is there an undo / backup??",
  C, BUG, key="x-timeentries")
E("nick", "Love the new timeline",
  "Hey TRKV folks,\n\nNo problem to report, just wanted to say the new timeline view is brilliant. Planned our "
  "whole Q1 in an afternoon and the client actually understood it.\n\nOne tiny wish: let me pick the colour of "
  "the today-line, the red looks like an error.\n\nCheers,",
  L, GEN)
D("zoe_m", "forum:guest-removal",
  "<@bot> can someone from the team look at this today please? this is a data protection issue for us",
  H, BUG)
X("dpark_dev",
  "@trkvbot dashboard is back to ~2s after the outage 🤷 so whatever you restarted fixed my perf issue too lol",
  L, GEN, reply="bot:x-slowdash")
E("peter", "Gantt export to PDF cuts off long task names",
  "Hello,\n\nwhen I export the timeline (Gantt) to PDF, task names longer than about 30 characters are cut off "
  "without \"…\", and the last column of months is missing. A4 landscape, Chrome.\n\nI attach nothing because "
  "the PDF has client names, but I can send a redacted one.\n\nS pozdravem / Best regards,",
  M, BUG)
D("mkowal", "thread:d-lost-tasks",
  "checked with the team: 3 more people lost cards they created between ~14:33 and 14:38. so it's at least 5 "
  "cards. they had attachments too (delivery notes).",
  C, BUG, title="Tasks created right before the outage are gone")
X("sophie_l",
  "@trkvbot merci ! found it under view options. maybe make it a per-board default? I toggle it every morning",
  L, FEAT)
E("jiwoo", "Question about API rate limits for an integration we're building",
  "Hi,\n\nWe're building a TRKV ↔ Figma plugin for our studio (internal for now, maybe public later). A few "
  "questions:\n\n1. Is the 600 req/min limit per API token or per OAuth app?\n2. Is there a webhook for comment "
  "created?\n3. Do you have a sandbox workspace for partners?\n\nThanks,\nJi-woo",
  L, Q, key="e-jiwoo-api")
D("kiki", "general",
  "this server is so helpful ty everyone 🥹 first week using trkv and already addicted",
  L, GEN)
E("greg", "Re: Charged twice for November",
  "Never mind the site question, saw the tweet. Still need the refund though, the duplicate $96 is still "
  "pending on my statement.",
  H, Q, reply="e-doublecharge", quote=True)
X("pm_tariq",
  "@trkvbot also timeline: can't drag a bar across a weekend, it snaps back. is that a setting? we work saturdays",
  M, Q)
D("devon", "bug-reports",
  "Board filters reset whenever I open a card and close it again. had 'assignee = me' + 'label = urgent', now "
  "I re-apply them 50 times a day. Chrome 131",
  M, BUG)
E("claire", "Re: Calendrier vide sur Safari / calendar view blank in Safari",
  "Petite précision : le problème n'arrive que pour les tâches sans heure (date seule). Si toutes les tâches ont "
  "une heure, le calendrier s'affiche.\n\nOnly all-day tasks trigger it.\n\nClaire",
  M, BUG, reply="e-safari", via_ack=True)
D("arjun_k", "support",
  "unrelated to SCIM: is there a way to see which users haven't logged in for 90 days? we pay for 180 seats and "
  "I suspect 30 are dead",
  L, Q)
X("cryptomoonshot_x",
  "@trkvbot 🚀🌕 $TRKV token presale LIVE!! early holders 100x guaranteed 💎🙌 claim airdrop → "
  "https://trkv-airdrop.example",
  L, NOACT)
E("emma", "Re: how do I print a board",
  "Oh and it would be lovely if the printout showed the card colours. We use green for gluten free.\n\nEmma",
  L, FEAT, reply="e-print")
D("hx_wang", "bug-reports",
  "API: `PATCH /v2/tasks/{id}` with `due_date: null` returns 200 but doesn't clear the date. has to be "
  "`\"due_date\": \"\"` which contradicts the OpenAPI spec",
  H, BUG)
X("tkachenko_ua",
  "@trkvbot the comments came back after ~30 min! all there. thanks 🙌",
  L, GEN)
E("fatima", "Translation mistakes in French interface",
  "Bonjour,\n\nNous utilisons l'interface en français (bêta ?). Quelques erreurs :\n- « Tâche » est écrit "
  "« Tache » dans le menu\n- le bouton « Archiver » dit « Archive »\n- la date est au format américain "
  "(11/23/2026)\n\nMerci !\nFatima Zahra",
  L, DOCS, key="e-translation")
D("nora_pm", "support",
  "our PM team wants a weekly digest email of what moved on each board. is that a thing? I only see per-card "
  "notifications",
  L, Q)
X("justin_tech",
  "@trkvbot also — do you have a SOC 2 Type II report I can request? need it for the vendor questionnaire",
  L, Q)
E("dana", "Recurring tasks + automations question",
  "Hi! I work with Kevin at BrightPath. While we wait for recurring tasks, can an automation create a new card "
  "on a schedule (e.g. every Monday 9am)? I only see event triggers.\n\nThanks,\nDana",
  L, Q)
D("oluwaseun.dev", "docs",
  "The OpenAPI file at /v2/openapi.json still says `servers: https://api.trkv.app` — that domain doesn't "
  "resolve. generated clients point at nothing by default",
  M, DOCS)
X("ohmygoshjess",
  "@trkvbot pls add confetti when you move a card to Done. I need the dopamine. this is a serious feature request",
  L, FEAT)
E("lan", "Re: Automation runs twice on the same card",
  "We removed the second rule and now the first rule runs once. So two rules on the same trigger make both run "
  "twice? That looks like a bug.\n\nLan",
  M, BUG, reply="e-twice", via_ack=True)
D("bytebandit", "general",
  "today's outage was the longest I've gone without moving a card since 2024. felt free. anyway back to work",
  L, GEN)
E("brandon", "Re: THIRD time asking - cancel my subscription",
  "OK the cancel button worked in Firefox. Safari is broken. Please confirm I won't be charged on Dec 1.",
  M, Q, reply="e-cancel", via_ack=True)
X("amaraokafor",
  "@trkvbot is there a way to see who archived a card? someone archived half our sprint and nobody remembers 😂",
  L, Q)
D("j0nas", "bug-reports",
  "Umlaut bug: card titles with 'ß' sort between 's' and 't' in alphabetical sort but titles with 'ü' end up at "
  "the very bottom. Minor, but our list of Lieferanten looks weird",
  L, BUG)
E("sarah", "Re: Is TRKV down?",
  "It's working again, thanks. Our presentation survived. Would appreciate a heads-up email next time though, we "
  "only found out from Twitter.\n\nSarah",
  L, FEAT, reply="e-down-sarah", via_ack=True)
X("nat_codes",
  "@trkvbot PATCH with `assignees: [{id}]` works btw, docs still say assignee_ids. so it's a docs bug",
  L, DOCS)
D("pixelpriya", "support",
  "can I change the default card template for a board? every new card should start with our 'Acceptance "
  "criteria' checklist",
  L, Q)
E("jamal", "Re: Trainers can see each other's clients",
  "Tested again with a second trainer account: opening the link from the email shows the whole board, all cards, "
  "even after logging out and in. Please look at this soon.\n\nJamal",
  H, BUG, reply="e-private", via_ack=True, quote=True)
D("wh1tehat", "dm",
  "PoC video: https://vimeo.example/948812033 (password: trkv-xss). Works on Chrome 131 and Firefox 133. Also "
  "works via the embed iframe. Let me know who to coordinate with.",
  C, BUG)
X("chris_k_tweets",
  "@trkvbot ty, found it under the new docs URL. fyi the old link still 404s instead of redirecting",
  L, DOCS)
E("ingrid", "RE: Question about data residency (EU hosting)",
  "Dear TRKV team,\n\nA colleague forwarded me your answer while I'm away. Thank you. Could you also send the "
  "list of sub-processors?\n\nKind regards,\nIngrid Halvorsen",
  L, Q, reply="e-residency", via_ack=True)
D("c0rentin", "general",
  "<@bot> la traduction française est prévue ? (is a French translation planned?)",
  L, Q)
X("leo_valdez",
  "@trkvbot Google login works again 🥳 was it related to the outage? anyway thanks for the quick DMs",
  L, GEN, reply="x-google")
E("aisha", "Event board template",
  "Hello,\n\nDo you have a template for event planning (speakers, venue, catering, volunteers)? We host a monthly "
  "tech meetup and I keep rebuilding the same board.\n\nAisha",
  L, Q, key="e-template")
D("mattie", "support",
  "is there a way to get notified only when I'm mentioned? the firehose of 'X moved a card' emails is too much",
  L, Q)
X("marisol_ux",
  "@trkvbot accessibility: the board has no visible focus ring when tabbing through cards. keyboard users are "
  "lost. WCAG 2.4.7",
  M, BUG)
E("kevin", "Bounced email to colleague?",
  "Hi,\n\nI invited dana.whitfield@brightpath.io last week and she says she never got the invite. Could you check "
  "if it bounced? We've had issues with our mail filter before.\n\nKevin",
  M, Q, key="e-kevin-invite")
D("lena.codes", "support",
  "what's the retry policy for failed webhook deliveries? how many attempts, what backoff? planning our "
  "idempotency",
  L, Q)

# --- towards the evening: integrations, billing, the long tail --------------------------------

E("mark", "Phishing emails imitating TRKV",
  "Hello,\n\nFollowing our incident this morning: several of our staff received emails from "
  "\"TRKV Security <security@trkv-web-app.com>\" (note the hyphen) asking them to \"re-verify 2FA\" via a link to "
  "trkv-web-app.com/verify. The page is a pixel-perfect copy of your login. Headers attached below.\n\n"
  "Received: from mail.trkv-web-app.com (45.133.1.77)\nReturn-Path: <bounce@trkv-web-app.com>\n\n"
  "You may want to warn all customers and get the domain taken down.\n\nMark",
  H, Q, key="e-phishing")
X("kaylabuilds",
  "@trkvbot thanks for the calendar tip btw, Monday start works now 🙌 (for anyone wondering: profile → "
  "preferences → locale)",
  L, GEN, reply="bot:x-weekstart")
D("hx_wang", "support",
  "OAuth refresh tokens stopped working for our integration after the outage. `POST /oauth/token` with "
  "grant_type=refresh_token → 400 `invalid_grant` for every user. ~300 users now have to reconnect. were "
  "tokens invalidated on purpose?",
  H, BUG, key="d-oauth")
E("ap", "Invoice request - PO 4500018823",
  "Good afternoon,\n\nPlease re-issue invoice INV-2026-10-03318 with our purchase order number PO 4500018823 "
  "referenced on it. Invoices without a PO number cannot be processed by our system and will be returned.\n\n"
  "Remit-to address and tax ID are unchanged.\n\nThank you,",
  L, Q)
X("dev_dan_",
  "@trkvbot deliveries caught up 👍 but task.deleted still never fires. repro: create task via API, delete via "
  "UI → nothing. delete via API → nothing",
  H, BUG, reply="bot:x-webhook-deleted")
D("ana_sofia", "feature-requests",
  "Sería genial poder asignar una tarjeta a varias personas con roles distintos (responsable / revisor). Right "
  "now 'assignees' is flat and we lose who actually owns it",
  L, FEAT)
E("sarah", "Zapier integration stopped triggering",
  "Hi,\n\nOur Zap \"New TRKV card in Leads → create HubSpot deal\" hasn't triggered since about 3pm today. Zapier "
  "says the TRKV connection is fine and the test step finds cards. Is the polling trigger affected by today's "
  "outage?\n\nSarah",
  H, BUG)
D("thedocsnerd", "docs",
  "API reference: the `GET /v2/boards/{id}/cards` page says default page size 100, the API returns 50. one of "
  "them is wrong 🙂",
  L, DOCS)
X("hannah_ops",
  "@trkvbot please, anything on the time entries? my team's invoicing for November depends on them. I have the "
  "CSV I imported but not the original entries",
  C, BUG, reply="x-timeentries")
E("oliver", "Automatic reply: Re: Uploads over 10 MB fail",
  "I'm on site visits until Wednesday with limited signal. For anything urgent please call the studio on "
  "020 7946 0321.\n\nOliver",
  L, NOACT, reply="e-upload", via_ack=True, kind="autoreply")
D("notsam", "support",
  "can I undo 'archive all cards in column'?? I meant to click 'sort'. 60 cards gone 😭",
  H, Q)
X("raulgarcia",
  "@trkvbot y otra cosa: la app en el móvil no carga las imágenes de las tarjetas, solo sale un cuadro gris",
  M, BUG)
E("jiwoo", "Re: Question about API rate limits for an integration we're building",
  "Thanks for the quick answer! One more: is there an official TypeScript SDK, or should we generate one from "
  "the OpenAPI file?\n\nJi-woo",
  L, Q, reply="e-jiwoo-api", via_ack=True, quote=True)
D("yuki.t", "general",
  "tip for JP folks: set the locale to ja-JP in preferences and dates show as 2026/11/23 instead of US style 🙆",
  L, GEN)
E("kevin", "Re: Feature request: recurring tasks",
  "Saw the 'vote on roadmap' link, voted. Thanks for the fast reply!\n\nKevin",
  L, GEN, reply="e-recurring", via_ack=True)
X("growthhacker_99",
  "@trkvbot hey! loved your profile 😍 we do 🔥 viral threads 🔥 for SaaS brands, check our pinned 👇",
  L, NOACT)
D("devon", "feature-requests",
  "saved filters that you can share with the team via URL. right now everyone builds their own 'my urgent stuff' "
  "filter by hand",
  L, FEAT)
E("jose", "Re: Consulta sobre exportación de datos",
  "Perfecto, con la exportación de workspace en JSON nos sirve. ¡Gracias!\n\nJosé",
  L, GEN, reply="e-export-es", via_ack=True)
D("plant_dad", "support",
  "the 'remember me' checkbox doesn't seem to do anything, I get logged out daily on firefox",
  M, BUG)
X("sophie_l",
  "@trkvbot is there a Google Calendar sync? two-way ideally. due dates → calendar at least",
  L, Q)
E("helen", "Re: URGENT: board missing after workspace merge",
  "Thank you for the call. To confirm what we agreed: you will restore \"Client Matters 2026\" from the "
  "22 November 06:00 UTC backup into a new workspace, and send us a list of cards changed after that time so "
  "we can re-enter them.\n\nPlease let us know as soon as it's available.\n\nHelen",
  H, BUG, reply="e-dataloss", via_ack=True)
D("dev_tomasz", "support",
  "is there an API endpoint to list webhook delivery attempts? the UI shows the last 20 only, I need to audit "
  "what failed during the outage",
  M, Q)
X("fionahq",
  "@trkvbot ownership transferred, we're back in 🎉 fastest account recovery I've ever done with a SaaS. thank you!",
  L, GEN, reply="bot:x-owner")
E("peter", "Question: Czech characters in PDF export",
  "Hello again,\n\nin the PDF export, Czech characters (č, ř, ž, ů) are replaced by squares. In the app they look "
  "fine.\n\nPeter Novák",
  M, BUG, key="e-czech")
D("bea_ops", "bug-reports",
  "API returns `500` instead of `404` for a deleted card id: `GET /v2/cards/1923884` → 500 with an html error page, "
  "not json. breaks our client's error handling",
  M, BUG)
X("ellie_writes",
  "@trkvbot love that you answered a typo report within the hour. that's how you get loyal users 💛",
  L, GEN)
E("jamal", "Re: Trainers can see each other's clients",
  "Thank you for confirming it's a bug and disabling the email links for now. Please let me know when it's "
  "fixed so I can tell my trainers.\n\nJamal",
  M, BUG, reply="e-private", via_ack=True)
D("j0nas", "support",
  "do guests count towards the seat limit? the pricing page says 'unlimited guests' but billing shows 43 seats "
  "for 40 members",
  L, Q)
X("pm_tariq",
  "@trkvbot the new 'Reports' page is great but it's missing a 'cycle time' chart. lead time alone doesn't tell "
  "us much",
  L, FEAT)
E("tom", "Re: Rechnungsadresse / VAT ID on invoices",
  "Vielen Dank, die Rechnungen sind angekommen. Alles korrekt.\n\nTom Becker",
  L, GEN, reply="e-vat", via_ack=True)
D("oluwaseun.dev", "bug-reports",
  "Drag & drop of files onto a card uploads them twice if you drop on the description area. ends up with "
  "`spec.pdf` and `spec (1).pdf`",
  M, BUG)
X("nat_codes",
  "@trkvbot webhooks: is there a way to subscribe to events for only one board? we get the whole workspace "
  "firehose",
  L, Q)
E("lucia", "Re: No puedo cambiar mi contraseña / can't change password",
  "¡Funciona! Changed it with the ñ and it worked. Gracias por arreglarlo tan rápido.\n\nLucía",
  L, GEN, reply="e-password", via_ack=True)
D("zoe_m", "forum:guest-removal",
  "thank you! confirmed: no more emails to her, and she's gone from the assignee list. (for others: it was the "
  "per-project membership that survived the workspace removal)",
  L, GEN)
X("sre_mike",
  "@trkvbot got the incident report, thanks. root cause + the status page fix is what we needed. appreciate it",
  L, GEN, reply="bot:x-outage-mike")
E("nick", "Client can't see attachments",
  "Hi,\n\nOur client (guest on one board) sees attachment names but clicking them shows \"Access denied\". "
  "Members can open them. Is there a setting for guests?\n\nNick",
  M, Q, key="e-guest-files")
D("mkowal", "thread:d-lost-tasks",
  "got the recovered cards from support, all 5 are back 🙏 would be good to know why they were lost in the "
  "first place",
  M, BUG)
X("theRealBenji",
  "@trkvbot dark mode when. asking for my retinas",
  L, FEAT)
E("marta", "Re: URGENT: TRKV unavailable - 502 errors",
  "Thank you for the incident report. The logout issue one of my team reported on your Discord seems related: "
  "since the outage nobody has been logged out. So it looks fixed.\n\nMarta",
  L, GEN, reply="e-outage", via_ack=True)
D("kiki", "support",
  "how do I delete a board? I made like 5 test ones 😅",
  L, Q)
X("chris_k_tweets",
  "@trkvbot GitHub app asks for write access to code. why? we only want PR status. security team won't approve",
  M, Q)
E("fatima", "Billing in MAD",
  "Hello,\n\nIs it possible to pay in Moroccan dirham? If not, in EUR? Our accountant prefers an invoice in "
  "euros.\n\nFatima Zahra",
  L, Q)
D("arjun_k", "thread:d-scim",
  "saw the fix notice, tested 'Test, Comma' → 201 🎉 thanks for the quick turnaround",
  L, GEN)
X("priyankaaa",
  "@trkvbot the pomodoro timer sound is SO loud and there's no volume setting 😭 scared my cat",
  L, FEAT)
E("claire", "Re: Calendrier vide sur Safari / calendar view blank in Safari",
  "C'est réparé, merci beaucoup ! Le calendrier s'affiche sur Safari.\n\nClaire",
  L, GEN, reply="e-safari", via_ack=True)
D("c0rentin", "bug-reports",
  "Les notifications par e-mail affichent l'heure en UTC au lieu de mon fuseau (Europe/Paris). 'due at 16:00' "
  "means 17:00 for me",
  M, BUG)
X("amaraokafor",
  "@trkvbot ok found it in the activity log, it was me 🙃 never mind!!",
  L, GEN)
E("dana", "Invite never arrived",
  "Hi, Kevin sent me an invite to the BrightPath workspace last week but I never received it. Could you resend "
  "or give me a direct link?\n\nDana",
  M, Q, key="e-dana-invite")
D("devon", "general",
  "<@bot> what's the difference between 'archive' and 'close' for boards? the docs use both words",
  L, DOCS)
X("marisol_ux",
  "@trkvbot also contrast on the grey label text is 3.1:1, needs 4.5:1 for WCAG AA. happy to share a full audit",
  M, BUG)
E("priya", "Re: Slack notifications going to an archived channel",
  "Confirmed fixed, notifications arrive in #alpha-eng now. Thanks!\n\nPriya",
  L, GEN, reply="e-slack", via_ack=True)
D("grumpycat_ops", "support",
  "can we enforce SSO for everyone except 2 break-glass admin accounts? right now it's all or nothing",
  M, Q)
X("justin_tech",
  "@trkvbot got the SOC 2 report via the trust portal, thanks. security team is reviewing 🤞",
  L, GEN)
E("greg", "Re: Charged twice for November",
  "Refund showed up. Thanks for sorting it out.\n\nGreg",
  L, GEN, reply="e-doublecharge", via_ack=True)
D("lena.codes", "feature-requests",
  "webhook event for `comment.created` please 🙏 we want to mirror comments into our helpdesk",
  L, FEAT)
X("dpark_dev",
  "@trkvbot bug: the board search box loses focus after each keystroke on Firefox 133, so I type one letter at a "
  "time lol",
  M, BUG)
E("jiwoo", "Figma plugin: OAuth redirect URI rejected",
  "Hi,\n\nWhen registering our OAuth app, the redirect URI `https://www.figma.com/plugin-oauth/callback?app=trkv` "
  "is rejected with \"Invalid redirect URI\". Query strings are not allowed? Figma requires this format.\n\n"
  "Ji-woo",
  H, BUG, key="e-redirect")
D("ricky_b", "support",
  "can I export my personal board as a pdf to show my therapist my progress? 😅 not joking",
  L, Q)
X("hannah_ops",
  "@trkvbot THANK YOU. entries restored from your backup, only lost today's. please add a confirmation before "
  "'overwrite existing' on import 🙏",
  M, FEAT, reply="x-timeentries")
E("ravi", "Re: GitHub integration: PR merges no longer move tasks",
  "reconnected the GitHub app as you suggested and merges move cards again. the 'last event' date updated too. "
  "thanks!\n\nravi",
  L, GEN, reply="e-github", via_ack=True)
D("pixelpriya", "bug-reports",
  "In the card modal, long URLs in the description overflow the container horizontally instead of wrapping. "
  "screenshot attached",
  L, BUG, files=(("overflow.png", "image/png", 77412),))
X("ohmygoshjess",
  "@trkvbot my boss asked what I did all day and I just showed her my Done column. 10/10 app",
  L, GEN)
E("seo", "Re: Quick question about trkv-web.app",
  "Hi again,\n\nJust bumping this to the top of your inbox. Our free audit offer expires Friday.\n\nBest,\n"
  "Digital Growth Team",
  L, NOACT)
D("yuki.t", "support",
  "thanks for the fix on the mobile due dates 🙏 confirmed working",
  L, GEN, reply="d-tz")
X("tkachenko_ua",
  "@trkvbot feature request: API endpoint for activity log. we need it for our compliance export",
  L, FEAT)
E("aisha", "Re: Event board template",
  "Found the template gallery, the 'Conference' one is perfect. Thank you!\n\nAisha",
  L, GEN, reply="e-template", via_ack=True)
D("bytebandit", "feature-requests",
  "let me set WIP limits per column and turn the column red when exceeded. kanban 101",
  L, FEAT)
X("leo_valdez",
  "@trkvbot one more: the magic link email took 11 minutes to arrive. ok in a pinch but not great",
  M, BUG)
E("emma", "Re: how do I print a board",
  "The print view is perfect, thank you so much! The kitchen is very happy.\n\nEmma",
  L, GEN, reply="e-print", via_ack=True)
D("nora_pm", "docs",
  "Docs: the automation examples page has a broken embed (video shows 'unavailable')",
  L, DOCS)
X("sophie_l",
  "@trkvbot merci pour la réponse rapide 🙏 vous êtes top",
  L, GEN)
E("kevin", "Re: Bounced email to colleague?",
  "Thanks - Dana found the invite in a different folder in the end. All good!\n\nKevin",
  L, GEN, reply="e-kevin-invite", via_ack=True)

# --- the last stretch -------------------------------------------------------------------

E("mailer-daemon", "Undelivered Mail Returned to Sender",
  "This is the mail system at host mx1.trkv-web.app.\n\nI'm sorry to have to inform you that your message could "
  "not be delivered to one or more recipients.\n\n<kevin.obrein@brightpath.io>: host "
  "mx.brightpath.io[203.0.113.25] said: 550 5.1.1 <kevin.obrein@brightpath.io>: Recipient address rejected: "
  "User unknown in virtual mailbox table",
  L, NOACT, reply="e-recurring", via_ack=True, kind="bounce")
X("justin_tech",
  "@trkvbot is there an IP allowlist feature? bank wants login restricted to their office ranges",
  M, Q)
E("sarah", "Team plan: how many admins can we have?",
  "Hi,\n\nQuick one: on the Team plan can we have more than one workspace admin? I'd like my ops manager to manage "
  "billing while I'm on holiday in December.\n\nSarah",
  L, Q)
D("hx_wang", "support",
  "confirmed: refresh tokens issued before 14:40 today are rejected, newer ones work. so the outage rotated the "
  "signing key? would be nice to get an announcement, our users think our app is broken",
  H, BUG, reply="d-oauth")
E("peter", "Re: Question: Czech characters in PDF export",
  "Also Slovak: ľ and ĺ. And in the Gantt PDF, not only in the board PDF.\n\nPeter",
  M, BUG, reply="e-czech", quote=True)
X("raulgarcia",
  "@trkvbot ya cargan las imágenes, era el modo ahorro de datos del móvil 🤦‍♂️ perdón!",
  L, GEN)
E("oliver", "Re: Uploads over 10 MB fail",
  "Back in the office: uploads of 40 MB work now. Whatever you changed on the upload proxy fixed it. Thanks for "
  "the thorough follow-up.\n\nOliver",
  L, GEN, reply="e-upload", via_ack=True)
D("mattie", "feature-requests",
  "let free users have 5 projects instead of 3 pls 🥺 (I know, I know)",
  L, FEAT)
E("lan", "Bulk edit due dates",
  "Hello,\n\nIs there a way to shift the due dates of many cards at once, e.g. +7 days for everything in the "
  "'Sprint 48' column? Our release moved by one week.\n\nLan",
  L, Q)
X("nat_codes",
  "@trkvbot rate limit headers now include Retry-After 👀 saw it in the changelog. nice",
  L, GEN)
E("helen", "Re: URGENT: board missing after workspace merge",
  "The board is back and Rachel has re-entered the 23 cards changed since the backup. Thank you for the weekend "
  "effort. We would like a written explanation of what went wrong in the merge and what you are changing.\n\n"
  "Helen",
  M, BUG, reply="e-dataloss", via_ack=True)
D("wh1tehat", "dm",
  "Thanks for the quick triage! Confirmed the fix on my side, titles are escaped now in share links and the "
  "embed. Happy to be credited as 'Alex M.' on your security page.",
  L, GEN)
E("brandon", "Re: THIRD time asking - cancel my subscription",
  "Got the confirmation email. Thanks.",
  L, GEN, reply="e-cancel", via_ack=True)
X("pm_tariq",
  "@trkvbot weekend dragging works after turning on 'working days: Mon-Sat'. hidden setting but ok 👍",
  L, GEN)
E("mark", "RE: Phishing emails imitating TRKV",
  "Thank you for the quick response and the customer advisory. The domain now shows a registrar suspension "
  "page.\n\nRegarding our incident: we received the export log. Our DPO will be in touch about the "
  "notification.\n\nMark",
  M, Q, reply="e-phishing", via_ack=True)
D("devon", "support",
  "is there a way to see the API usage per token? we have 6 tokens and one of them is burning through the rate "
  "limit",
  L, Q)
X("marisol_ux",
  "@trkvbot sent the a11y audit to support@ as a PDF. 23 findings, 5 of them blockers for screen reader users",
  M, BUG)
E("jiwoo", "Re: Figma plugin: OAuth redirect URI rejected",
  "Works now with the query string allowed. Thanks for the quick fix, we'll publish the plugin next month.\n\n"
  "Ji-woo",
  L, GEN, reply="e-redirect", via_ack=True)
D("ana_sofia", "general",
  "¡Gracias a todos por la ayuda hoy! 💛 this community is the best part of trkv",
  L, GEN)
E("nick", "Re: Client can't see attachments",
  "Found it: 'Guests can download attachments' was off in the board settings. Sorry for the noise!\n\nNick",
  L, GEN, reply="e-guest-files", via_ack=True)
X("theRealBenji",
  "@trkvbot the comment box zoom fix shipped?? no more pinching. you legends",
  L, GEN, reply="x-zoom")
E("crypto", "RE: Confidential business proposal",
  "Dear Friend,\n\nI have not received your response. This transaction is 100% risk free. Please reply urgently "
  "with your bank details.\n\nMr. Richard Owens",
  L, NOACT)
D("bea_ops", "thread:d-outage",
  "read the incident report. thanks for being transparent about the config push. and the status page updated "
  "within 2 min during today's small blip, so 👍",
  L, GEN)
X("dev_dan_",
  "@trkvbot task.deleted webhooks arriving now ✅ thanks for the quick fix",
  L, GEN, reply="bot:x-webhook-deleted")
E("dana", "Re: Invite never arrived",
  "Got it, found it in our quarantine. I'm in. Thanks!\n\nDana",
  L, GEN, reply="e-dana-invite", via_ack=True)
D("notsam", "general",
  "gn everyone, what a day for trkv lol. outage, a security fix, and I learned what SCIM is",
  L, GEN)
X("ohmygoshjess",
  "@trkvbot ok but where is my confetti 🎉",
  L, FEAT)
E("fatima", "Re: Translation mistakes in French interface",
  "Merci, les corrections sont visibles. Bonne soirée !\n\nFatima Zahra",
  L, GEN, reply="e-translation", via_ack=True)
X("amaraokafor",
  "@trkvbot quick q before I sleep: can I set a default assignee per column?",
  L, Q)


# =====================================================================================
# Rendering: native payloads around the texts above.
# =====================================================================================


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def snowflake(when: datetime, epoch_ms: int, seq: int) -> str:
    """Discord and X ids: milliseconds since the platform's epoch, then worker bits and a sequence."""
    millis = int(when.timestamp() * 1000) - epoch_ms
    return str((millis << 22) | (1 << 17) | (seq % 4096))


def schedule(count: int) -> list[float]:
    """Offsets in seconds: the first lines within 5 s, the rest spread to ~20 min with jitter.
    Jitter stays under half a step, so the order of the script is kept."""
    rng = random.Random(2026)
    ats = list(FIRST_ATS[:count])
    rest = count - len(ats)
    step = (LAST_AT - 8.0) / max(1, rest - 1)
    ats += [round(8.0 + i * step + rng.uniform(-0.4, 0.4) * step, 1) for i in range(rest)]
    return ats


class Feed:
    def __init__(self) -> None:
        self.sent: dict[str, dict] = {}  # spec key -> what later replies need to know
        self.threads: dict[str, dict] = {}  # thread key -> Discord channel object
        self.thread_sizes: dict[str, int] = {}

    def line(self, spec: dict, at: float, seq: int) -> dict:
        when = START + timedelta(seconds=at)
        render = {"discord": self.discord, "x": self.tweet, "email": self.email}[spec["channel"]]
        payload, context, sent = render(spec, when, seq)
        if spec.get("key"):
            self.sent[spec["key"]] = sent
        context["label"] = {"priority": spec["prio"], "category": spec["cat"]}
        return {"at": at, "channel": spec["channel"], "payload": payload, "context": context}

    # --- Discord ---------------------------------------------------------------------

    def discord(self, spec: dict, when: datetime, seq: int) -> tuple[dict, dict, dict]:
        message_id = snowflake(when, DISCORD_EPOCH_MS, seq)
        username = spec["user"]
        user_id, global_name = DISCORD_USERS[username]
        channel = self._discord_channel(spec, message_id, user_id, username)
        text = spec["text"].replace("<@bot>", f"<@{BOT['id']}>")
        payload = {
            "type": 19 if spec["reply"] else 0,
            "tts": False,
            "timestamp": when.isoformat(timespec="microseconds"),
            "edited_timestamp": None,
            "pinned": False,
            "nonce": str(int(message_id) - 1337),
            "mention_everyone": "@everyone" in text,
            "mention_roles": [],
            "mentions": [dict(BOT, avatar=None, discriminator="0")] if BOT["id"] in text else [],
            "id": message_id,
            "channel_id": channel["id"],
            "author": {
                "id": user_id, "username": username, "global_name": global_name, "discriminator": "0",
                "avatar": _digest(username)[:32], "public_flags": 0, "avatar_decoration_data": None,
            },
            "content": text,
            "embeds": [],
            "attachments": [_discord_file(f, channel["id"], when, seq + i) for i, f in enumerate(spec["files"])],
            "components": [],
            "flags": 0,
        }
        if channel["type"] != 1:
            payload["guild_id"] = GUILD_ID
            payload["member"] = {"roles": [], "nick": None, "joined_at": "2025-03-14T09:12:44.120000+00:00",
                                 "deaf": False, "mute": False, "flags": 0, "pending": False, "avatar": None}
        if channel["type"] == 11:
            payload["position"] = self.thread_sizes[channel["id"]] - 1
        if spec["reply"]:
            parent = self.sent[spec["reply"]]
            payload["message_reference"] = {"type": 0, "message_id": parent["id"],
                                            "channel_id": parent["channel_id"], "guild_id": GUILD_ID}
        context = {"channel": channel, "bot_user_id": BOT["id"]}
        return payload, context, {"id": message_id, "channel_id": channel["id"]}

    def _discord_channel(self, spec: dict, message_id: str, user_id: str, username: str) -> dict:
        where = spec["where"]
        if where == "dm":
            dm_id = str(int(user_id) + 77_000_000_000_000)  # one stable DM channel per user
            return {"id": dm_id, "type": 1, "name": None,
                    "recipients": [{"id": user_id, "username": username}]}
        if ":" not in where:
            return _text_channel(where)
        kind, key = where.split(":", 1)
        if key not in self.threads:
            # A forum post and a thread started from a message both take the starting message's id.
            parent_key = "help" if kind == "forum" else self._channel_key_of(key)
            thread_id = message_id if kind == "forum" else self.sent[key]["id"]
            parent = _text_channel(parent_key)
            self.threads[key] = {
                "id": thread_id, "type": 11, "name": spec["title"], "guild_id": GUILD_ID,
                "parent_id": parent["id"], "parent_name": parent["name"], "category": parent["category"],
                "owner_id": user_id,
            }
            self.thread_sizes[thread_id] = 0
        thread = self.threads[key]
        self.thread_sizes[thread["id"]] += 1
        return dict(thread)

    def _channel_key_of(self, key: str) -> str:
        channel_id = self.sent[key]["channel_id"]
        return next(k for k, v in CHANNELS.items() if v[0] == channel_id)

    # --- X ---------------------------------------------------------------------------

    def tweet(self, spec: dict, when: datetime, seq: int) -> tuple[dict, dict, dict]:
        tweet_id = snowflake(when, TWITTER_EPOCH_MS, seq)
        user_id, name = X_USERS[spec["user"]]
        text, urls = _shorten_urls(spec["text"], tweet_id)
        assert len(text) <= 280, f"tweet over 280 characters: {text!r}"
        assert "@trkvbot" in text, f"tweet does not mention @trkvbot: {text!r}"
        tweet = {
            "id": tweet_id, "edit_history_tweet_ids": [tweet_id], "text": text, "author_id": user_id,
            "conversation_id": tweet_id, "created_at": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "lang": "en", "reply_settings": "everyone",
            "entities": _tweet_entities(text, urls),
        }
        if spec["reply"]:
            tweet.update(self._tweet_reply(spec["reply"], when, seq))
        users = [{"id": user_id, "name": name, "username": spec["user"]}]
        payload = {"data": tweet, "includes": {"users": users}}
        return payload, {}, {"id": tweet_id, "conversation_id": tweet["conversation_id"], "author_id": user_id,
                             "at": when}

    def _tweet_reply(self, reply: str, when: datetime, seq: int) -> dict:
        via_bot = reply.startswith("bot:")
        parent = self.sent[reply.removeprefix("bot:")]
        if via_bot:
            # Our own answer in between is not replayed; it sits halfway in time.
            ours = snowflake(parent["at"] + (when - parent["at"]) / 2, TWITTER_EPOCH_MS, seq + 2048)
            parent_id, parent_author = ours, X_BOT["id"]
        else:
            parent_id, parent_author = parent["id"], parent["author_id"]
        return {
            "conversation_id": parent["conversation_id"],
            "in_reply_to_user_id": parent_author,
            "referenced_tweets": [{"type": "replied_to", "id": parent_id}],
        }

    # --- email -----------------------------------------------------------------------

    def email(self, spec: dict, when: datetime, seq: int) -> tuple[str, dict, dict]:
        if spec["kind"] == "bounce":
            return self._bounce(spec, when)
        name, address, offset, client, signature = PEOPLE[spec["who"]]
        local = when.astimezone(timezone(timedelta(hours=offset)))
        msg = EmailMessage(policy=SMTP)
        msg["From"] = Address(name, *address.split("@"))
        msg["To"] = SUPPORT
        msg["Subject"] = spec["subject"]
        msg["Date"] = format_datetime(local)
        msg["Message-ID"] = _message_id(client, address, spec["subject"], seq)
        body = spec["body"] + (f"\n\n{signature}" if signature else "")
        parent = self._thread_headers(msg, spec)
        if spec["quote"] and parent:
            body += _quoted(parent, spec["via_ack"])
        if spec["kind"] == "autoreply":
            msg["Auto-Submitted"] = "auto-replied"
            msg["X-Autoreply"] = "yes"
        msg.set_content(body)
        if spec["html"]:
            msg.add_alternative(_html(body), subtype="html")
            msg.set_boundary(f"00000000000{_digest('boundary', seq)[:17]}")  # fixed, unlike the stdlib's random one
        sent = {"id": msg["Message-ID"], "refs": msg.get("References", ""), "subject": spec["subject"],
                "name": name, "date": msg["Date"], "body": spec["body"]}
        return msg.as_string(), {}, sent

    def _thread_headers(self, msg: EmailMessage, spec: dict) -> dict | None:
        if not spec["reply"]:
            return None
        parent = self.sent[spec["reply"]]
        refs = f"{parent['refs']} {parent['id']}".strip()
        in_reply_to = parent["id"]
        if spec["via_ack"]:
            # Our acknowledgement was not replayed; its id only needs to look like one.
            in_reply_to = f"<ack.{_digest(parent['id'])[:20]}@trkv-web.app>"
            refs = f"{refs} {in_reply_to}"
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = refs
        return parent

    def _bounce(self, spec: dict, when: datetime) -> tuple[str, dict, dict]:
        parent = self.sent[spec["reply"]]
        report = MIMEMultipart("report", report_type="delivery-status")
        report["Return-Path"] = "<>"
        report["From"] = "Mail Delivery System <MAILER-DAEMON@mx1.trkv-web.app>"
        report["To"] = str(SUPPORT)
        report["Subject"] = spec["subject"]
        report["Date"] = format_datetime(when)
        report["Message-ID"] = f"<{_digest('bounce', when)[:16].upper()}@mx1.trkv-web.app>"
        report["Auto-Submitted"] = "auto-replied"
        report.attach(MIMEText(spec["body"] + "\n", "plain", "us-ascii"))
        report.attach(_delivery_status("kevin.obrein@brightpath.io"))
        original = EmailMessage()
        original["From"] = str(SUPPORT)
        original["To"] = "kevin.obrein@brightpath.io"
        original["Subject"] = f"Re: {parent['subject']}"
        original["In-Reply-To"] = parent["id"]
        original.set_content("Thanks for the suggestion! We've added it to our roadmap.")
        report.attach(MIMEMessage(original))
        report.set_boundary(f"{_digest('bounce-boundary', when)[:12].upper()}.1763905681/mx1.trkv-web.app")
        return report.as_string(policy=SMTP), {}, {"id": report["Message-ID"], "refs": "", "subject": spec["subject"]}


def _delivery_status(recipient: str) -> MIMEBase:
    """RFC 3464 fields: one block for the message, one per failed recipient."""
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; mx1.trkv-web.app"
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = "5.1.1"
    per_recipient["Diagnostic-Code"] = "smtp; 550 5.1.1 Recipient address rejected: User unknown"
    status = MIMEBase("message", "delivery-status")
    status.set_payload([per_message, per_recipient])
    return status


def _text_channel(key: str) -> dict:
    channel_id, kind, name, category = CHANNELS[key]
    return {"id": channel_id, "type": kind, "name": name, "guild_id": GUILD_ID,
            "parent_id": _CATEGORY_IDS[category], "category": category}


def _discord_file(spec: tuple, channel_id: str, when: datetime, seq: int) -> dict:
    filename, content_type, size = spec
    file_id = snowflake(when, DISCORD_EPOCH_MS, seq + 1000)
    url = f"https://cdn.discordapp.com/attachments/{channel_id}/{file_id}/{filename}"
    return {"id": file_id, "filename": filename, "size": size, "content_type": content_type, "url": url,
            "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"), "width": 1280, "height": 720}


_URL_RE = re.compile(r"https://\S+")


def _shorten_urls(text: str, tweet_id: str) -> tuple[str, list[dict]]:
    """X rewrites every link to a 23-character t.co link and lists the original in entities."""
    urls = []

    def shorten(match: re.Match) -> str:
        short = "https://t.co/" + _digest(tweet_id, match[0])[:10]
        urls.append({"url": short, "expanded_url": match[0], "display_url": match[0].removeprefix("https://")[:26]})
        return short

    return _URL_RE.sub(shorten, text), urls


def _tweet_entities(text: str, urls: list[dict]) -> dict:
    entities: dict = {}
    mentions = []
    for match in re.finditer(r"(?<!\w)@(\w{1,15})", text):
        known = X_BOT if match[1] == X_BOT["username"] else None
        mention = {"start": match.start(), "end": match.end(), "username": match[1]}
        if known:
            mention["id"] = known["id"]
        mentions.append(mention)
    if mentions:
        entities["mentions"] = mentions
    for url in urls:
        start = text.index(url["url"])
        url.update(start=start, end=start + len(url["url"]))
    if urls:
        entities["urls"] = urls
    hashtags = [{"start": m.start(), "end": m.end(), "tag": m[1]} for m in re.finditer(r"(?<!\w)#(\w+)", text)]
    if hashtags:
        entities["hashtags"] = hashtags
    return entities


def _message_id(client: str, address: str, subject: str, seq: int) -> str:
    """Ids in the style of each mail client, short enough that no header folding mangles them."""
    token = _digest(address, subject, seq)
    domain = address.split("@")[1]
    if client == "gmail":
        return f"<CA+{token[:24]}=w{token[24:30]}@mail.gmail.com>"
    if client == "outlook":
        server = f"{('AM0', 'DB7', 'VI1', 'AS8')[int(token[0], 16) % 4]}PR07MB{int(token[1:5], 16) % 9000 + 1000}"
        return f"<{server}{token[5:13].upper()}@{server}.eurprd07.prod.outlook.com>"
    if client == "apple":
        t = token.upper()
        return f"<{t[:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:32]}@{domain}>"
    return f"<{token[:12]}.{seq}@mail.{domain}>"


def _quoted(parent: dict, via_ack: bool) -> str:
    if via_ack:
        text = ("Thanks for contacting TRKV Support. We've received your message and a member of the team will get "
                "back to you soon.")
        who = "TRKV Support <support@trkv-web.app>"
    else:
        text, who = parent["body"], parent["name"]
    quoted = "\n".join("> " + line if line else ">" for line in text.splitlines())
    return f"\n\nOn {parent['date']}, {who} wrote:\n{quoted}\n"


def _html(body: str) -> str:
    paragraphs = "".join(
        "<p>" + part.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br>") + "</p>\n"
        for part in body.split("\n\n")
    )
    return ("<html><head><meta charset=\"utf-8\"><style>p{margin:0 0 12px;font-family:Calibri,Arial}</style>"
            f"</head><body>\n{paragraphs}</body></html>\n")


def build() -> list[dict]:
    feed = Feed()
    return [feed.line(spec, at, seq) for seq, (spec, at) in enumerate(zip(SPECS, schedule(len(SPECS)), strict=True))]


def main() -> None:
    lines = build()
    with OUT.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {len(lines)} lines to {OUT}")


if __name__ == "__main__":
    main()
