"""Outage reports and unrelated messages for incident detection, written by hand and split
BEFORE tuning: DEV (a login outage, and unrelated messages) is what the likeness and its
threshold were tuned on; TEST (a 502 outage: 30 differently worded reports, and 10
unrelated messages) is only measured, by the stories and bench/incidents.py."""

DEV_OUTAGE = [
    "Can't log in to TRKV, the login page just spins forever",
    "login broken?? keeps saying 'session expired' right after I enter my password",
    "SSO sign-in fails with error 500 for our whole org",
    "Nobody on my team can sign in since 10 minutes, auth server down?",
    "@trkvbot getting 401 Unauthorized on every login attempt, password is right",
    "authentication service unavailable - cannot access my account",
    "Sign in page throws 'Internal Server Error' when I submit",
    "is login down for anyone else? Google SSO loops back to the login screen",
    "Password reset and login both timing out",
    "We are locked out: the OAuth callback returns 503",
    "trkv login not working right now, 2FA code page never loads",
    "can't get past the sign-in screen, it errors out every time",
    "Our users report they cannot log into the dashboard at all",
    "auth is broken, logging in fails with 'something went wrong'",
    "URGENT: entire company unable to sign in to TRKV",
]

DEV_UNRELATED = [
    "How do I change the colour of a project label?",
    "Feature request: please add a Gantt export to PDF",
    "The dark mode toggle is slightly misaligned on Safari",
    "Thanks for the quick help yesterday, works great now!",
    "Where can I find the API rate limits in the docs?",
    "Can I get an invoice with our VAT number on it?",
    "The CSV import skips rows with emoji in the title",
    "Typo in the docs: 'recieve' on the webhooks page",
    "Is there a student discount?",
    "love the new timeline view, great job team",
]

TEST_OUTAGE = [
    "app.trkv-web.app is returning 502 Bad Gateway for our whole team right now",
    "site down, bad gateway",
    "API answers 502 to everything",
    "is trkv down??",
    "@trkvbot everything is 502ing for me, is it just me?",
    "Getting 'Bad Gateway' when I open any project",
    "TRKV unavailable - 502 errors on every page, please advise urgently",
    "our nightly sync is failing: the API returns HTTP 502 on every endpoint",
    "the web app won't load at all, just a gateway error page",
    "Is there an outage? Dashboard shows 502 and nothing loads",
    "trkv is completely down for us in eu-west",
    "502 on the app and the docs site, something's on fire",
    "curl https://api.trkv-web.app/v2/me -> 502 Bad Gateway",
    "can't reach trkv at all, nginx error page",
    "Everything returns a server error since about 2 minutes",
    "@trkvbot outage? nothing loads, bad gateway everywhere",
    "Our integration gets 502 responses from your REST API",
    "TRKV is down. Our team cannot work. When will it be back?",
    "the site is giving me 502s, tried two networks and two browsers",
    "hey is the service down? I only see 'Bad Gateway'",
    "API requests all failing with 502 since 14:02",
    "web app dead: 502 Bad Gateway nginx",
    "down for everyone or just me? trkv won't open",
    "Getting gateway errors on login and on every other page",
    "Service outage? All our API calls error with status 502",
    "trkv not loading, says bad gateway, please fix asap",
    "502 Bad Gateway across the whole app, started a few minutes ago",
    "Our dashboards are all broken: 502 from the server",
    "is trkv having an outage right now? can't open anything",
    "rip, trkv is down again, 502 gang",
]

TEST_UNRELATED = [
    "How do I export my projects to CSV?",
    "Could you add keyboard shortcuts for switching boards?",
    "The tooltip on the calendar overlaps the date picker",
    "Thank you, the new release is fantastic!",
    "What is the difference between the Team and Business plans?",
    "My invoice shows the wrong company address",
    "The mobile app logs me out every few days, is that expected?",
    "Please document the webhook retry policy",
    "Can I rename a workspace without losing its history?",
    "The Slack integration posts duplicate messages for comments",
]
