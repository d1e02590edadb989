#!/usr/bin/env python3
"""Build the triage seed set, `triage/data/seed.jsonl`.

    python triage/data/build_seed.py

The situations below are hand-written for TRKV (a project tracker: boards, timeline,
Gantt, time tracking, reports, an API, GitHub/Slack/Jira/Google Calendar integrations).
Each situation is one thing a customer might tell us, labelled with the priority and
category its author meant. The script renders each situation in the voice of the
channel it arrives on: a tweet at @trkvbot (at most 280 characters, handles, slang),
a Discord chat line (in the channel a user would pick, sometimes the wrong one), or an
email with a subject, a greeting and a signature. Slots ({feature}, {browser}, ...)
vary the details so that no two messages are the same.

The held-out split is fixed by situation, not by message: every rendering of a
held-out situation is held out, so the test never sees a paraphrase of a training
example. The output is deterministic; the file was written before any model tuning.
Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "triage" / "data" / "seed.jsonl"
HELD_OUT_SHARE = 5  # one situation in five is held out...
FIRST_PASS = 160  # ...among the first 160 situations; later passes are training data only
RENDERINGS = 10  # messages rendered from each situation

C, H, M, L = "critical", "high", "medium", "low"
BUG, FEAT, Q, DOCS, GEN, NOACT = "bug_report", "feature_request", "support_question", "documentation", "general", "no_action"

SLOTS = {
    "feature": ["timeline view", "board view", "Gantt chart", "time tracking", "reports page", "calendar view",
                "sprint planner", "workload view", "inbox", "dashboard", "roadmap", "backlog", "kanban board",
                "recurring tasks", "custom fields", "task list", "project overview", "burndown chart"],
    "integration": ["GitHub", "Slack", "Jira import", "Google Calendar", "GitLab", "Zapier", "Microsoft Teams",
                    "Outlook calendar", "Bitbucket", "Figma", "Zendesk", "webhooks"],
    "browser": ["Chrome", "Firefox", "Safari", "Edge", "Brave", "chrome 131", "Firefox 133", "Safari on iPad",
                "the Android app", "the iOS app", "the desktop app"],
    "plan": ["Business plan", "Team plan", "free plan", "Enterprise", "Pro plan", "trial"],
    "n": ["3", "5", "12", "40", "200", "2,000", "15", "8", "60"],
    "err": ["500", "502", "503", "504", "403", "404", "429", "400"],
    "when": ["since this morning", "since the last update", "since yesterday", "for the past hour",
             "since about 10 minutes ago", "after today's release", "since lunch", "all day"],
    "export": ["CSV", "Excel", "PDF", "JSON", "iCal"],
    "thing": ["tasks", "projects", "comments", "attachments", "time entries", "subtasks", "milestones", "boards"],
    "team": ["our team", "the whole company", "my team", "our agency", "the marketing team", "our dev team"],
    "lang": ["Python", "Node", "Go", "Ruby", "PHP", "curl"],
}

# (priority, category, subject, text). Texts are the situation in plain words; the
# channel voice is added when rendering.
SITUATIONS: list[tuple[str, str, str, str]] = [
    # --- critical: outages -------------------------------------------------------------
    (C, BUG, "TRKV is down", "The whole site is down for us {when}. Every page gives a {err} error and nobody on {team} can work."),
    (C, BUG, "Site not loading at all", "trkv-web.app is not loading at all, just a blank white page and then a timeout. Tried {browser} and my phone, same thing."),
    (C, BUG, "Can't log in anywhere", "None of us can log in anywhere, web or mobile. The login page spins forever and then says service unavailable."),
    (C, BUG, "502 for everyone", "Getting 502 Bad Gateway for everyone in the office {when}. Is there an outage? We have a launch today."),
    (C, Q, "Is TRKV down?", "Is TRKV down right now? Our whole team is locked out and the app just shows an error page."),
    (C, BUG, "API completely down", "Your API is completely down, every request returns {err} and our integration is dead in production."),
    (C, BUG, "Outage", "Total outage on our side: the app, the API and the mobile app are all unreachable {when}."),
    (C, BUG, "nobody can access workspace", "Nobody in our workspace can access anything, the dashboard is offline and it's been 30 minutes."),
    (C, BUG, "sevice down??", "sevice is down again?? site wont load, can't login, everything is dead. pls fix asap"),
    (C, Q, "status?", "Your status page says all green but the app has been unreachable {when} for {team}. What is going on?"),
    (C, BUG, "Everything broken after update", "After the release everything is broken: the board, the timeline, login. Completely unusable for the entire org."),
    (C, GEN, "Heads up: people reporting outage", "Heads up, lots of people in the community are saying TRKV is down for them too, seems like a big outage."),
    # --- critical: security ------------------------------------------------------------
    (C, BUG, "Security issue: other users' data visible", "Security issue: when I open my {feature} I can see tasks and comments from a different company's workspace."),
    (C, BUG, "Leaked API key", "I accidentally leaked our API key in a public GitHub repo. How do I revoke it immediately? Someone is already using it."),
    (C, BUG, "Account hacked", "My account was hacked. Someone changed my email and password and is deleting {thing} in our workspace right now."),
    (C, BUG, "Vulnerability report", "I found a vulnerability in your share links: changing the id in the URL exposes other customers' private {thing}."),
    (C, BUG, "XSS in comments", "There is a stored XSS in task comments, a script tag in a comment runs for everyone who opens the task."),
    (C, BUG, "Unauthorized access", "We see unauthorized access in our audit log, logins from an unknown country on an admin account, we did not do this."),
    (C, Q, "Was my data breached?", "I got an email saying TRKV had a data breach and my password is exposed. Is this real? What do I need to do?"),
    (C, DOCS, "Your docs expose a live token", "Your API reference page shows what looks like a real, working access token in the {lang} example. Please remove it, anyone can use it."),
    (C, FEAT, "Need to kill all sessions now", "A former employee still has access and is downloading our {thing}. We need a way to log out all sessions right now, is there any?"),
    (C, BUG, "password reset sends other people's links", "The password reset email I got contains a link that logs me into someone else's account. This is a serious security hole."),
    (C, BUG, "sql injection in search", "The search box is open to SQL injection, typing a quote dumps a database error with table names."),
    # --- critical: data loss -----------------------------------------------------------
    (C, BUG, "All our data is gone", "All my data is gone. I logged in and every project is empty, {n} projects and years of history vanished."),
    (C, BUG, "Projects deleted after sync", "After the {integration} sync ran, all our {thing} were deleted. Nothing in trash either. We need them restored."),
    (C, BUG, "Lost everything", "We lost everything in the {feature} {when}, all {thing} disappeared for the whole team."),
    (C, BUG, "Data loss on import", "Importing from Jira wiped our existing workspace, we had {n} active projects and now there is nothing left."),
    (C, Q, "how do i get my data back", "how do i get my data back?? our workspace is empty since the update and we have a client deadline tomorrow"),
    (C, BUG, "Attachments missing", "Every attachment uploaded in the last month is missing, the files open as 404 for everyone. That's our contracts."),
    (C, BUG, "time entries wiped", "All time entries for {team} were wiped overnight, payroll runs tomorrow and the reports show zero hours."),
    (C, GEN, "heads up data gone", "not sure where to post this but our whole board just vanished, all cards gone, and my coworker's too"),
    # --- high: feature malfunction, integrations, API ----------------------------------
    (H, BUG, "{integration} integration stopped syncing", "The {integration} integration stopped syncing {when}. New items don't show up in TRKV anymore and reconnecting doesn't help."),
    (H, BUG, "API returns {err} on task create", "POST /v2/tasks returns {err} for every request {when} even with a fresh token. GET still works."),
    (H, BUG, "Export broken", "{export} export fails with an error for any project over {n} tasks. We need this for our weekly client report."),
    (H, BUG, "Can't save tasks", "Saving a task in the {feature} fails with 'something went wrong', edits are lost when I close the dialog."),
    (H, BUG, "Notifications not sent", "Email notifications stopped completely {when}, nobody on {team} gets assignment emails anymore."),
    (H, Q, "Webhook signatures failing", "Our webhook endpoint rejects every call because the signature doesn't match anymore. Did you change the signing scheme?"),
    (H, BUG, "Logged out constantly", "I get logged out every few minutes {when}, on {browser}. Have to redo 2FA each time, makes the app almost unusable."),
    (H, BUG, "{feature} crashes", "The {feature} crashes with an error as soon as I open a project with more than {n} items. Other views work."),
    (H, Q, "OAuth token refresh broken?", "Refreshing OAuth tokens through the API started failing with invalid_grant. Our {lang} client worked for months. Anything changed?"),
    (H, BUG, "Recurring tasks duplicated", "Recurring tasks are being created {n} times each morning, our board is flooded with duplicates."),
    (H, BUG, "SSO login fails", "SSO through Okta fails with 'SAML response invalid' for half our users {when}. They can't get in."),
    (H, FEAT, "API is missing bulk update", "We are blocked: the API has no bulk update for {thing}, so our migration of {n} items hits the rate limit. Can you add a bulk endpoint?"),
    (H, DOCS, "API docs wrong about pagination", "The API docs say the cursor is in the response body but it's actually in the Link header, our integration broke following the docs."),
    (H, BUG, "Payments failing", "Our card keeps getting declined on renewal but the bank says no charge was attempted. The workspace shows as past due for {team}."),
    (H, Q, "{integration} says unauthorized", "Connecting {integration} says 'unauthorized' even though I'm an admin on both sides. What permission am I missing?"),
    (H, BUG, "Mobile app crashes on launch", "{browser} crashes right on launch after the update, can't open anything. Reinstalled twice."),
    (H, BUG, "Automations not firing", "Automations stopped firing {when}. Moving a card to Done no longer closes the linked issue in {integration}."),
    # --- medium: configuration, performance, UI/UX -------------------------------------
    (M, BUG, "{feature} is really slow", "The {feature} has become really slow, it takes 10+ seconds to load for a project with {n} tasks."),
    (M, Q, "How to set up custom fields", "How do I configure custom fields so they show up in the {feature}? I added them but they stay hidden."),
    (M, BUG, "Dark mode text unreadable", "In dark mode the text in the {feature} tooltips is dark grey on black, basically unreadable."),
    (M, Q, "Permissions for guests", "What's the right way to configure guest permissions so clients can comment but not edit {thing}?"),
    (M, BUG, "Drag and drop glitchy", "Drag and drop in the {feature} is glitchy on {browser}, cards jump back to the old column about half the time."),
    (M, Q, "Timezone settings", "Due dates show one day off for our team in Sydney. Where do I set the workspace timezone?"),
    (M, BUG, "Layout broken on small screens", "On a 13 inch laptop the sidebar overlaps the {feature}, I can't click the first column."),
    (M, Q, "Email notifications too many", "How can I configure notifications so I only get emails for tasks assigned to me? I get {n} emails a day."),
    (M, FEAT, "Better keyboard navigation", "Keyboard navigation in the {feature} is awkward, tab skips the task title. Could you improve it?"),
    (M, BUG, "Search takes forever", "Search takes forever and often returns nothing for {thing} I know exist, {when}."),
    (M, DOCS, "Config docs confusing", "The docs on configuring the {integration} integration are confusing, the screenshots show settings that no longer exist."),
    (M, Q, "Can't find where to change workflow statuses", "Where do I change the workflow statuses for one project only? The settings change them for the whole workspace."),
    (M, BUG, "Export has wrong dates", "The {export} export puts dates in US format even though my settings are set to European."),
    (M, BUG, "Reports page loads slowly", "Loading the reports page for the quarter takes almost a minute, it used to be instant."),
    (M, GEN, "UI feedback", "Some feedback on the new UI: the icons in the {feature} are too small and the contrast is low. Not a blocker, just annoying."),
    # --- low: feature requests ---------------------------------------------------------
    (L, FEAT, "Feature request: dark mode", "Would love a proper dark mode for the whole app, not only the {feature}."),
    (L, FEAT, "Please add {integration} integration", "Please add an {integration} integration, we'd love to link {thing} directly."),
    (L, FEAT, "Idea: templates", "It would be great to save a project as a template with its {thing} and custom fields."),
    (L, FEAT, "Export to {export}", "Could you add export to {export} for the {feature}? We'd use it for client updates."),
    (L, FEAT, "Subtasks in {feature}", "Wish I could see subtasks in the {feature}, right now only parent tasks show up."),
    (L, FEAT, "French interface", "Any plans for a French or German interface? Half of {team} would appreciate it."),
    (L, FEAT, "Offline mode", "Feature idea: an offline mode for the mobile app so I can check my tasks on the train."),
    (L, FEAT, "Emoji reactions", "Would be nice to react to comments with emoji instead of writing '+1' every time."),
    (L, FEAT, "More colours for labels", "Can we get more colours for labels? {n} labels and only 8 colours is tight."),
    (L, FEAT, "Keyboard shortcut cheat sheet", "A keyboard shortcut cheat sheet inside the app would be super handy."),
    # --- low: documentation ------------------------------------------------------------
    (L, DOCS, "Typo in docs", "Small typo in the getting started guide: 'recieve' in the section about notifications."),
    (L, DOCS, "Broken link in docs", "The link to the {integration} guide in the docs goes to a 404 page."),
    (L, DOCS, "Docs for {lang} SDK outdated", "The {lang} SDK examples in the docs still use the old v1 endpoints, would be good to update them."),
    (L, DOCS, "Missing docs on custom fields", "There's no documentation about custom field formulas, could you add a page with examples?"),
    (L, DOCS, "Tutorial request", "A video tutorial on setting up the {feature} for a new team would really help onboarding."),
    (L, DOCS, "Changelog", "The changelog page hasn't been updated since the last {n} releases, hard to know what changed."),
    # --- low: general questions --------------------------------------------------------
    (L, Q, "Pricing question", "Quick question: does the {plan} include the {feature}, or is that only on higher tiers?"),
    (L, Q, "Student discount", "Do you offer a student or non-profit discount? We're a small volunteer group."),
    (L, Q, "How to export", "How do I export my {thing} to {export}? Couldn't find the option."),
    (L, Q, "Is there a mobile app", "Is there a mobile app for Android or only iOS?"),
    (L, Q, "Where are you hosted", "Where is our data hosted, EU or US? Our legal team is asking."),
    (L, Q, "Change workspace name", "Is it possible to rename a workspace without losing the links we shared?"),
    (L, Q, "Max users", "How many users can we add on the {plan}?"),
    (L, Q, "Invoice address", "How do I change the company address on our invoices?"),
    # --- low: general discussion -------------------------------------------------------
    (L, GEN, "How do you organise sprints", "Curious how other teams organise sprints in TRKV, do you use one board per sprint or labels?"),
    (L, GEN, "Meetup", "Anyone from Berlin using TRKV? Would be fun to do a small user meetup."),
    (L, GEN, "Switching from Trello", "We're switching from Trello next month, any tips from people who did the same?"),
    (L, GEN, "Roadmap thoughts", "Just read the roadmap post, the {feature} changes look interesting. Anyone tried the beta?"),
    (L, GEN, "Show and tell", "Sharing our setup: we track {n} client projects with the {feature} and custom fields for budget. Happy to answer questions."),
    (L, GEN, "Opinion", "Honestly the new {feature} took me a week to get used to but now I kind of like it."),
    # --- low: no action (praise, thanks, spam, chatter) --------------------------------
    (L, NOACT, "Thanks!", "Thanks for the quick help yesterday, all sorted now!"),
    (L, NOACT, "Love the update", "Love the new {feature}, great job team!"),
    (L, NOACT, "SEO services", "Hello, we offer SEO and backlink services to boost your website ranking. Reply for a free quote."),
    (L, NOACT, "Crypto giveaway", "Congratulations! You have been selected for our crypto giveaway, click the link to claim 5 ETH."),
    (L, NOACT, "Your account", "Your account is compromised! Verify your wallet at the link below within 24 hours to avoid suspension."),
    (L, NOACT, "gm", "gm everyone ☀️ happy friday"),
    (L, NOACT, "Out of office", "I am out of the office until Monday with limited access to email. For urgent matters contact my colleague."),
    (L, NOACT, "Closing the loop", "Confirmed the fix works on my side, you can close this one. Cheers!"),
    (L, NOACT, "Best tool ever", "TRKV is hands down the best project tool we've used, {team} loves it."),
    (L, NOACT, "Follow back", "follow for follow? we post daily productivity tips 🚀🚀"),
    (L, NOACT, "lol", "lol the loading animation is so cute"),
    # --- hard cases: Critical-sounding words that are not Critical ----------------------
    (M, BUG, "Dropdown menu cut off", "The status dropdown in the {feature} is cut off at the bottom, I can't pick the last option."),
    (L, Q, "Downgrade plan", "How do I downgrade from the {plan} to the free plan? Will I lose any {thing}?"),
    (L, Q, "Deleted a project by mistake", "I deleted one project by mistake, is it in the trash somewhere? Not urgent, it was an old one."),
    (M, BUG, "Slow login", "Login is a bit slow today, takes around 10 seconds but it works in the end."),
    (L, GEN, "Status page suggestion", "Was the site down last night? Saw a blip around 2am but everything is fine now, just curious."),
    (L, DOCS, "Security docs", "Do you have a security whitepaper or SOC 2 docs we can share with our IT department?"),
    (L, FEAT, "Two-factor with hardware keys", "Feature request: support hardware security keys for two-factor login, we care about security."),
    (M, Q, "Password policy", "Can admins enforce a password policy, e.g. minimum length, for everyone in the workspace?"),
    (H, BUG, "One project won't load", "One specific project won't load, the page shows a 500 error. All other projects are fine."),
    (L, Q, "Data retention", "How long do you keep data after we cancel? Want to make sure nothing is lost before we archive."),
    (M, BUG, "Missing avatar", "My avatar is missing in the top bar since the redesign, just a grey circle."),
    (L, GEN, "Downtime window", "Thanks for announcing the maintenance window in advance, we planned around it."),
    (H, BUG, "Some comments not loading", "Comments on some tasks don't load, the spinner never stops. Happens for {n} tasks out of hundreds."),
    (L, NOACT, "Down to try it", "down to try the new beta this weekend, looks sick 🔥"),
    # --- more variety across cells -----------------------------------------------------
    (H, Q, "Rate limit changed?", "We started hitting 429 Too Many Requests on the API at far lower volume than before. Did the rate limit change?"),
    (H, BUG, "Calendar sync duplicates", "The {integration} sync now creates every event twice and deleting one deletes both."),
    (H, GEN, "Integration outage on your side?", "Anyone else seeing the {integration} integration fail since the weekend? Ours is broken and we rely on it daily."),
    (M, FEAT, "Faster board loading", "Boards with {n}+ cards get sluggish, any chance of virtual scrolling or pagination?"),
    (M, GEN, "Performance thoughts", "The app feels slower than a few months ago, especially the {feature}. Is that just me?"),
    (M, DOCS, "Missing config example", "The docs for SAML setup don't say which attribute carries the email, took us an hour to figure out."),
    (L, BUG, "Tooltip typo", "Tiny thing: the tooltip on the archive button says 'Achive'."),
    (L, BUG, "Icon misaligned", "The bell icon is a few pixels off next to the search box. Cosmetic only."),
    (H, DOCS, "Webhook docs missing event", "The webhook docs don't list the task.moved event that we now receive, our parser crashes on it."),
    (M, Q, "Configure SLA fields", "How do I configure a default assignee per project? Tried the settings but new tasks stay unassigned."),
    (H, FEAT, "Need API access to time entries", "Our billing depends on time entries but the API doesn't expose them yet. Without it our integration can't go live."),
    (L, GEN, "Podcast mention", "Heard TRKV mentioned on a productivity podcast today, nice!"),
    (M, BUG, "Notifications badge wrong", "The notification badge keeps showing {n} unread even after I read everything."),
    (L, Q, "Keyboard shortcuts", "Is there a keyboard shortcut to create a task from anywhere?"),
    # --- second pass: thin cells and more phrasings -------------------------------------
    (C, BUG, "app down in EU", "Looks like the app is down in Europe, the EU region has been unavailable {when}, we get connection refused."),
    (C, BUG, "Cannot access any account", "cant acces my account or any of my teams accounts, the whole platform seems offline"),
    (C, BUG, "workspace wiped", "Our workspace got wiped. {n} boards deleted, the activity log shows nothing, we did not delete them."),
    (C, Q, "someone logged into my account", "Someone logged into my account from another country and exported our {thing}. How do I lock everything down?"),
    (C, GEN, "Breach rumour", "There's a thread going around saying customer passwords were dumped online after a TRKV breach, can you confirm or deny?"),
    (C, DOCS, "Password in your tutorial video", "Your onboarding tutorial video shows an admin password and an API secret in plain view. Please take it down."),
    (C, FEAT, "Emergency: need audit log export", "We think an attacker got into an admin account. We urgently need an audit log export to see what they accessed, is there one?"),
    (H, GEN, "Slack bot broken for everyone?", "The Slack bot stopped posting updates for our channels, and a friend at another company says the same. Known issue?"),
    (H, DOCS, "SDK docs wrong auth header", "The {lang} SDK docs use 'Token' instead of 'Bearer' in the auth header, every request 401s if you follow them."),
    (H, FEAT, "Need SCIM provisioning", "Our IT requires SCIM provisioning before we can roll TRKV out to {n} people. Is it coming soon? It's blocking the contract."),
    (H, Q, "API pagination returns duplicates", "Paging through /v2/projects returns the same items on several pages. How should we page reliably?"),
    (H, BUG, "Files fail to upload", "File uploads fail at 99% with a network error on every file bigger than 5 MB {when}."),
    (M, GEN, "Mobile app feels laggy", "Anyone else find the mobile app laggy when switching projects? Takes a few seconds each time."),
    (M, FEAT, "Configurable columns", "It would help if we could configure which columns show in the task list, it's too crowded on small screens."),
    (M, DOCS, "Automation docs unclear", "The automation docs don't explain the order rules run in, we misconfigured ours because of it."),
    (M, Q, "Set working days", "How do I configure working days so the Gantt chart skips weekends?"),
    (M, BUG, "Scrolling jank", "Scrolling in the {feature} is janky on {browser}, it stutters with just {n} tasks."),
    (L, BUG, "Wrong plural", "Minor: it says '1 tasks' in the project header."),
    (L, DOCS, "Outdated screenshot", "The screenshot on the {feature} help page is from the old design."),
    (L, DOCS, "API docs example suggestion", "Would be nice if the API docs had a full {lang} example for creating a task with custom fields."),
    (L, FEAT, "Widget for home screen", "A home screen widget for {browser} showing today's tasks would be lovely."),
    (L, Q, "Can I import from Asana", "Can I import projects from Asana, or only from Jira and Trello?"),
    (L, Q, "Public API?", "Do you have a public API? Thinking about building a small script for {team}."),
    (L, GEN, "Poll: favourite view", "Poll time: which view do you use most, board, list or {feature}?"),
    (L, GEN, "Feedback on pricing", "Not a complaint, but the jump in price from Team to Business is steep for small teams."),
    (L, NOACT, "Newsletter", "Subscribe to our weekly newsletter for the best deals on office furniture! Unsubscribe below."),
    (L, NOACT, "You rock", "you guys rock, fixed my issue in 5 minutes 🙌"),
    (L, NOACT, "Guest post offer", "Hi, I'd like to write a guest post for your blog in exchange for a link. Let me know!"),
    # --- third pass (training split only; the held-out split above is unchanged) ---------
    (C, BUG, "URGENT: production down", "URGENT - our production workspace returns {err} on every request, the whole team is blocked {when}."),
    (C, BUG, "cant login at all", "cant login at all, neither can anyone in {team}. password reset emails never arrive either. is the site dead?"),
    (C, BUG, "everything 503", "everything is 503 on our end, web and API both, status page says nothing"),
    (C, BUG, "board data disappeared", "our entire board data dissapeared after I refreshed, all columns and cards are gone, other admins see the same"),
    (C, BUG, "restore please", "Someone in our org says a bulk action deleted all of our {thing} for every project. Please restore our workspace from backup asap."),
    (C, BUG, "private projects public", "Our private projects are showing up publicly on Google, anyone can open them without logging in. This exposes client data."),
    (C, BUG, "tokens in URL", "Your share links put the user's access token in the URL, it ends up in our proxy logs and is visible to everyone. Security problem."),
    (C, Q, "phishing? real?", "We received a 'TRKV security notice' asking to re-enter passwords and three of us did. Was our account compromised? What now?"),
    (C, BUG, "The API is unreachable", "API unreachable from every region we tried, connection timeouts on api.trkv-web.app, our nightly sync failed completely."),
    (C, GEN, "is it just me or is trkv dead", "is it just me or is trkv totally dead rn? nothing loads for anyone in our discord either"),
    (H, BUG, "GitHub links broken", "Linked pull requests stopped showing up on cards {when}. The {integration} app says connected but nothing arrives."),
    (H, BUG, "Webhook deliveries failing", "Webhook deliveries to our endpoint all fail with timeouts in your delivery log, but our endpoint responds in 50 ms."),
    (H, BUG, "Zapier trigger not firing", "The 'task completed' Zapier trigger doesn't fire anymore, our client invoicing depends on it."),
    (H, BUG, "Cannot assign tasks", "Assigning a task to anyone fails silently in the {feature}, the avatar appears and disappears a second later."),
    (H, BUG, "Comments vanish after posting", "My comments show up and then disappear after a page reload, happened {n} times today."),
    (H, BUG, "Invite links expired", "Every invite link we send says 'expired' immediately, we can't onboard the new hires starting Monday."),
    (H, Q, "API 401 with valid token", "Why would the API return 401 for a token I created five minutes ago? Using the {lang} client, scopes are read and write."),
    (H, Q, "Import stuck", "Our Jira import has been stuck at 40% for six hours. Should I cancel and restart it or will that duplicate items?"),
    (H, BUG, "2FA codes rejected", "Two-factor codes from my authenticator are always rejected now, I'm locked out of my own account."),
    (H, BUG, "Billing page error", "The billing page shows an error and we can't update the card before the renewal tomorrow."),
    (H, BUG, "Time tracker stops", "The time tracker stops by itself after a few minutes and loses the tracked time."),
    (H, BUG, "Slack notifications to wrong channel", "Slack notifications started going to the wrong channel, client names are being posted in our public channel."),
    (M, BUG, "Gantt labels overlap", "Task labels overlap in the Gantt chart when zoomed out, can't read anything."),
    (M, BUG, "Sort order resets", "The sort order in the task list resets to default every time I come back to the page."),
    (M, BUG, "Emoji break titles", "Task titles with emoji get cut in the middle in the {feature}."),
    (M, BUG, "Slow uploads", "Uploading attachments got really slow, a 2 MB file takes a minute."),
    (M, BUG, "High CPU", "The desktop app uses 100% CPU when it's idle in the background."),
    (M, BUG, "Filters not saved", "Saved filters forget the assignee condition after I log out and back in."),
    (M, Q, "Configure reminders", "Is there a setting for reminder emails the day before a due date? Can't find where to turn it on."),
    (M, Q, "Workspace default view", "Can I make the {feature} the default view for everyone in the workspace?"),
    (M, Q, "SAML attribute mapping", "How do I map the department attribute from Azure AD to a custom field in TRKV?"),
    (M, Q, "Webhook retries config", "Can I configure how often webhooks are retried? Ours was down for a deploy and we missed events."),
    (M, Q, "Notification schedule", "How do I set quiet hours so the mobile app stops pinging me at night?"),
    (M, FEAT, "Bulk edit in list", "Bulk editing due dates in the list view would save us a lot of clicking, right now it's one by one."),
    (M, FEAT, "Faster search", "Please make search faster or add filters, with {n} projects it's hard to find anything."),
    (M, GEN, "New UI feels cluttered", "Is it just me or does the new sidebar feel cluttered? Took me a while to find settings."),
    (M, DOCS, "Rate limit docs unclear", "The docs don't say whether the rate limit is per token or per workspace, we had to guess when configuring our sync."),
    (L, FEAT, "Custom themes", "Would love custom colour themes so each client workspace looks different."),
    (L, FEAT, "Markdown tables", "Can you support markdown tables in task descriptions?"),
    (L, FEAT, "Pin projects", "Suggestion: let us pin favourite projects to the top of the sidebar."),
    (L, FEAT, "Weekly digest", "Idea: a weekly email digest of what got done across all projects. Managers would love it."),
    (L, FEAT, "Linux app", "Any chance of a Linux desktop app? The web version works but a native one would be nice."),
    (L, FEAT, "Task dependencies in board", "It'd be awesome to show task dependencies on the board view too, not just in the Gantt."),
    (L, FEAT, "Archive comments", "Please add a way to archive old comments, long tasks get hard to scroll."),
    (L, FEAT, "Apple Watch", "Feature wish: Apple Watch notifications with a quick 'mark done' button."),
    (L, FEAT, "Voting on requests", "It would be cool if we could vote on feature requests somewhere public."),
    (L, FEAT, "More integrations", "+1 for a {integration} integration, we'd switch our whole workflow if it existed."),
    (L, FEAT, "Timer presets", "Could the time tracker have presets like 25 minutes for pomodoro?"),
    (L, FEAT, "Calendar export", "Request: export milestones to {export} so they show up in our calendar."),
    (L, DOCS, "Docs search", "The docs search doesn't find 'webhook' even though there's a page about it."),
    (L, DOCS, "Example for automations", "Could the automation guide include a few real examples? The reference alone is hard to follow."),
    (L, DOCS, "Wrong default in docs", "The docs say the default reminder is 24h but in the app it's 1h. Minor, just so you know."),
    (L, DOCS, "Translate docs", "Are the help docs available in Spanish? Some of our team would find it easier."),
    (L, DOCS, "Glossary", "A glossary in the docs would help, we keep mixing up milestones and goals."),
    (L, DOCS, "API changelog missing", "The API reference doesn't mention when fields were added, a changelog section would help."),
    (L, Q, "Annual billing", "Is there a discount for paying yearly instead of monthly?"),
    (L, Q, "Delete account", "How do I delete my personal account? I moved to a new company."),
    (L, Q, "Guests count as users?", "Do guest users count towards our seat limit on the {plan}?"),
    (L, Q, "Trial extension", "Could we get a one-week trial extension? Our decision meeting moved."),
    (L, Q, "Does TRKV work offline", "Does TRKV work without an internet connection at all?"),
    (L, Q, "Where is the changelog", "Where can I see what changed in the latest release?"),
    (L, Q, "Multiple workspaces", "Can one login be part of several workspaces?"),
    (L, Q, "Recover archived project", "How do I unarchive a project? I archived it last year and need it for reference."),
    (L, Q, "Webinar?", "Are you running any onboarding webinars this month?"),
    (L, Q, "VAT invoice", "Can you add our VAT number to past invoices?"),
    (L, GEN, "Which view for design teams", "Design folks here: do you prefer the board or the {feature} for tracking reviews?"),
    (L, GEN, "Template sharing", "Would anyone share their content calendar template? Happy to trade for our sprint one."),
    (L, GEN, "TRKV vs Asana", "We compared TRKV and Asana for a month, here's what we found: TRKV is faster, Asana has more integrations."),
    (L, GEN, "Productivity tips", "What's your best TRKV productivity tip? Mine: keyboard shortcut C creates a task anywhere."),
    (L, GEN, "Community call", "Will the community call next week be recorded? Can't make it live."),
    (L, GEN, "Hiring", "Off topic but are you hiring support engineers? Love the product."),
    (L, GEN, "Working hours", "How do remote teams here handle time zones with due dates?"),
    (L, NOACT, "Thank you", "Thank you so much, that fixed it!"),
    (L, NOACT, "Kudos to support", "Huge kudos to your support team, fastest answer I've ever gotten 👏"),
    (L, NOACT, "Happy new year", "Happy new year to the whole TRKV team 🎉"),
    (L, NOACT, "Cheap followers", "Buy 10k real followers for just $9.99!!! DM now"),
    (L, NOACT, "Loan offer", "Get an instant business loan approved in minutes, no credit check, apply today."),
    (L, NOACT, "Just a test", "test test, ignore this message"),
    (L, NOACT, "Nice", "nice 👍"),
    (L, NOACT, "Auto reply", "Thank you for your email. This mailbox is not monitored. Please do not reply."),
    (L, NOACT, "Unsubscribe", "unsubscribe"),
    (L, NOACT, "Shoutout", "shoutout to @trkvbot for making my mondays less chaotic 💜"),
    (L, NOACT, "Crypto", "🚀 New token launching tonight, 100x guaranteed, join our telegram"),
    (L, NOACT, "Resolved thanks", "All good now after the update, thanks, no need to reply."),
    (H, FEAT, "Need webhook for deletions", "We need a webhook event when a task is deleted, our sync keeps orphaned records and it's breaking our reporting."),
    (H, DOCS, "OAuth docs wrong redirect", "The OAuth guide lists the wrong token URL, our login integration fails in production because of it."),
    (H, GEN, "Many users report sync issues", "Seeing lots of posts today about the {integration} sync being broken, ours too. Any ETA?"),
    (M, DOCS, "Screenshots outdated in setup guide", "The setup guide for custom fields shows old menus, I couldn't configure the field type until support told me where it moved."),
    (L, BUG, "Typo in email", "The welcome email says 'Welcom to TRKV'. Just a small typo."),
    (L, BUG, "Favicon", "The favicon looks blurry on retina screens. Not important."),
    (C, DOCS, "Docs site serving malware?", "Your docs site redirects to a suspicious download page, looks like it was hacked. Our security team flagged it."),
    (C, FEAT, "Need emergency lock", "An account with admin rights was stolen and we can't remove it. We need you to lock our workspace immediately."),
    # --- fourth pass (training only): developers on the API, SDKs and the sync agent ------
    (C, BUG, "Data corruption in bulk API", "Bulk PATCH /v2/tasks corrupts records: when two requests overlap, custom field values are written to the wrong tasks. We have {n} corrupted tasks so far."),
    (C, BUG, "Sync agent deletes local data", "The TRKV sync agent 3.2 deletes the local cache and then pushes the empty state, wiping the {thing} on the server. Reproducible on every restart."),
    (C, BUG, "API server hangs", "The API server hangs on every request after a few minutes, connections pile up and time out. Our whole integration is down."),
    (C, BUG, "Webhooks leak other tenants' data", "Webhook payloads we receive contain task titles and emails from other tenants. Looks like a cross-tenant data leak."),
    (C, BUG, "Writes silently lost", "Writes through the API return 200 but are silently lost, nothing is persisted since {when}. We lose every update our app makes."),
    (C, BUG, "Deadlock in export job", "Export jobs deadlock the workspace: once one runs, every other request for the workspace blocks until it times out. Production is stuck."),
    (C, BUG, "Auth bypass in API", "The API accepts requests with an expired or empty bearer token for /v2/projects. That's an authentication bypass, anyone can read projects."),
    (C, BUG, "Migration corrupted database", "After the v3 schema migration our workspace metadata is corrupt, projects fail to open with a NullPointerException and the data looks irrecoverable."),
    (H, BUG, "NullPointerException in SDK", "The Java SDK throws a NullPointerException in TaskClient.update when a task has no assignee. Stack trace attached."),
    (H, BUG, "Race condition in webhook retries", "There's a race between webhook retries and acks, we get each event twice under load. Idempotency keys differ between attempts."),
    (H, BUG, "SDK fails on pagination", "The {lang} SDK's list_tasks() raises an exception on the last page because next_cursor is null, so any loop over tasks fails."),
    (H, BUG, "Memory leak in sync agent", "The sync agent's memory grows by about 200 MB an hour until the OS kills it, then syncing stops until someone restarts it."),
    (H, BUG, "Timeouts on large projects", "GET /v2/projects/<id>/tasks times out for projects over {n} tasks, the endpoint never returns a first page."),
    (H, BUG, "Regression in CSV import", "Regression in 4.12: the CSV importer fails with 'unexpected column' for files that imported fine last week."),
    (H, BUG, "Wrong status codes", "The API returns 500 instead of 422 for validation errors, so our client retries requests that can never succeed."),
    (M, BUG, "Slow endpoint", "GET /v2/search is noticeably slower since the last release, p95 went from 300 ms to 2 s for us."),
    (M, BUG, "Incorrect error message", "The error message for an invalid date says 'bad request' without naming the field, hard to debug from our integration."),
    (M, BUG, "Log noise in sync agent", "The sync agent logs a warning every second when offline, filling the disk over a weekend."),
    (M, Q, "Configure retry policy in SDK", "How do I configure the SDK's retry policy? Default backoff is too aggressive for our batch job."),
    (M, FEAT, "Gzip responses", "Could the API compress responses with gzip? Our sync transfers a lot of JSON."),
    (L, BUG, "Typo in API error", "The API error text says 'unathorized'. Just cosmetic."),
    (L, DOCS, "Javadoc missing", "The Java SDK has no Javadoc for the webhook classes, would be nice to add."),
    (L, FEAT, "SDK for Rust", "Any plans for an official Rust SDK? We'd use it in our CLI tools."),
    (L, Q, "API versioning policy", "How long are old API versions supported after a new one comes out?"),
    (L, Q, "Sandbox environment", "Is there a sandbox workspace we can test our integration against?"),
    (L, GEN, "Open source client", "We open-sourced a small TRKV client for {lang}, feedback welcome!"),
]

# Discord channels by category (and the seed's server categories).
DISCORD_CHANNELS = {
    BUG: ("bug-reports", "Bug Reports"),
    FEAT: ("feature-requests", "Feature Requests"),
    Q: ("support", "Support Tickets"),
    DOCS: ("docs-feedback", "Documentation"),
    GEN: ("general", "General Discussion"),
    NOACT: ("general", "General Discussion"),
}
CATEGORY_HINTS = {"Bug Reports": BUG, "Feature Requests": FEAT, "Support Tickets": Q, "Documentation": DOCS,
                  "General Discussion": GEN}

NAMES = ["Marta Kowalska", "Jonas Weber", "Priya Nair", "Tom Becker", "Aiko Tanaka", "Lucas Silva", "Sara Lind",
         "Omar Haddad", "Chloé Martin", "Ben Carter", "Nadia Petrova", "Diego Ruiz", "Hannah Schmidt", "Kwame Mensah"]
COMPANIES = ["Brightlane Studio", "Northwind Labs", "Acme Logistics", "Pixel & Co", "Helio Health", "Fernweh GmbH",
             "Quill Agency", "Bluefin Analytics"]
HANDLES = ["@devmarta", "@jonas_builds", "@priya_pm", "@tbecker", "@aiko_t", "@lucas_codes", "@saralind",
           "@omar_h", "@chloe_mrtn", "@bencarter", "@nadia_p", "@druiz", "@hannah_pm", "@kwame_dev"]


def fill(template: str, rng: random.Random) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: rng.choice(SLOTS[m.group(1)]), template)


def tone(priority: str, rng: random.Random) -> str:
    """Whose closing words to use: people's tone follows the urgency only loosely."""
    return priority if rng.random() < 0.6 else rng.choice((C, H, M, L))


def casual(text: str, rng: random.Random) -> str:
    """Chat voice: lower case sometimes, fewer full stops, shorthand."""
    if rng.random() < 0.5:
        text = text[0].lower() + text[1:]
    swaps = [("I'm", "im"), ("can't", "cant"), ("don't", "dont"), ("doesn't", "doesnt"), ("you", "u"),
             ("please", "pls"), ("right now", "rn"), ("to be honest", "tbh"), ("Thanks", "thx"), ("because", "bc")]
    for old, new in swaps:
        if rng.random() < 0.35:
            text = text.replace(old, new)
    if rng.random() < 0.3:
        text = text.rstrip(".")
    return text


def tweet(text: str, priority: str, category: str, rng: random.Random) -> str:
    text = casual(text, rng)
    openers = ["@trkvbot ", "@trkvbot ", "hey @trkvbot ", "", "@trkvbot @trkvsupport "]
    closers = {C: [" 😡", " !!!", " wtf", " #trkvdown", " help", " ??"],
               H: [" 😩", " any ideas?", " pls", " #help", ""],
               M: [" 🤔", " meh", "", " #ux"],
               L: [" 🙏", " ✨", "", " #productivity", " 💜"]}
    body = rng.choice(openers) + text + rng.choice(closers[tone(priority, rng)])
    if category == NOACT and rng.random() < 0.5:
        body += " #trkv"
    if len(body) > 280:
        body = body[:276].rsplit(" ", 1)[0] + "…"
    return body


def discord(text: str, priority: str, rng: random.Random) -> str:
    text = casual(text, rng)
    openers = ["", "", "hey, ", "hi all, ", "quick one: ", "yo ", "hello! ", "anyone else? "]
    closers = {C: [" @here", " this is urgent", " !!", "", " anyone from staff around?"],
               H: [" any ideas?", "", " ping @support", " 😕"],
               M: ["", " not urgent", " 🙂", " thoughts?"],
               L: ["", " 🙂", " :)", " cheers"]}
    return rng.choice(openers) + text + rng.choice(closers[tone(priority, rng)])


def email(text: str, subject: str, priority: str, rng: random.Random) -> tuple[str, str]:
    name = rng.choice(NAMES)
    company = rng.choice(COMPANIES)
    greeting = rng.choice(["Hi TRKV team,", "Hello,", "Hi there,", "Dear support,", "Hi,", "Good morning,"])
    extra = {C: ["This is blocking our whole company, please treat it as urgent.", "Please call me back as soon as possible.",
                 "We need an update within the hour."],
             H: ["This is affecting our daily work.", "Could you look into it today?", "Happy to share logs if needed."],
             M: ["Not urgent, but it would be good to have it fixed.", "Let me know if you need more details.", ""],
             L: ["Thanks in advance!", "No rush.", "Cheers.", ""]}[tone(priority, rng)]
    signature = rng.choice([f"Best regards,\n{name}\n{company}", f"Thanks,\n{name.split()[0]}",
                            f"--\n{name} | Operations\n{company}\nSent from my iPhone", f"Kind regards,\n{name}"])
    body = f"{greeting}\n\n{text}\n{rng.choice(extra)}\n\n{signature}".replace("\n\n\n", "\n\n")
    if rng.random() < 0.2:
        subject = subject.lower()
    if rng.random() < 0.15:
        subject = "Re: " + subject
    return subject, body


def render(index: int, situation: tuple[str, str, str, str], copy: int) -> dict:
    priority, category, subject_t, text_t = situation
    rng = random.Random(f"{index}:{copy}")
    channel = ("email", "discord", "x")[(index + copy) % 3]
    text = fill(text_t, rng)
    subject = None
    hints: dict[str, str] = {}
    if channel == "x":
        text = tweet(text, priority, category, rng)
        hints = {"x_kind": rng.choice(["post", "post", "reply", "dm"]), "mentions_bot": "true"}
    elif channel == "discord":
        text = discord(text, priority, rng)
        # People mostly post in the channel that fits; some post anywhere.
        home = DISCORD_CHANNELS[category] if rng.random() < 0.75 else rng.choice(list(DISCORD_CHANNELS.values()))
        hints = {"discord_channel": home[0], "category": CATEGORY_HINTS[home[1]]}
    else:
        subject, text = email(text, fill(subject_t, rng), priority, rng)
        hints = {"email_subject": subject}
    digest = hashlib.sha256(f"situation-{index}".encode()).digest()
    return {
        "id": f"seed-{index:03d}-{copy}",
        "situation": index,
        "split": "test" if index < FIRST_PASS and digest[0] % HELD_OUT_SHARE == 0 else "train",
        "channel": channel,
        "subject": subject,
        "text": text,
        "hints": hints,
        "priority": priority,
        "category": category,
    }


def build() -> list[dict]:
    rows, seen = [], set()
    for index, situation in enumerate(SITUATIONS):
        for copy in range(RENDERINGS * 3):
            if sum(1 for r in rows if r["situation"] == index) >= RENDERINGS:
                break
            row = render(index, situation, copy)
            if row["text"] not in seen:
                seen.add(row["text"])
                rows.append(row)
    return rows


if __name__ == "__main__":
    rows = build()
    with OUT.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    test = sum(1 for r in rows if r["split"] == "test")
    print(f"wrote {len(rows)} messages ({test} held out) to {OUT}")
