"""The Critical rule layer: outages, security issues and data loss.

Critical is a safety decision, so it is an explicit list of phrasings that the
learned model can only add to, never overrule. Each rule has a name that is shown
to the agent, with the words that matched, as the reason a ticket was made Critical.
Spellings are loose on purpose ("sevice", "acces", "cant", "dwn"): people write
fast when everything is on fire. A few phrasings switch a rule off where the words
are there but the emergency is not ("was down last night, fine now", "dropdown").
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

class _Rule:
    """One compiled pattern. RE2 where it is installed: one linear-time pass over the text,
    where Python's backtracking engine tries every alternative at every position (20x
    slower on a 2,000-character email). RE2 is given the UTF-8 bytes, encoded once per
    message, so it does not re-encode the text for every rule. The patterns use nothing
    RE2 lacks; `re` is the fallback."""

    def __init__(self, pattern: str):
        self.bytes = False
        self._match = None
        if _re2 is not None:
            try:
                self.regex = _re2.compile(pattern.encode(), _RE2_OPTIONS)
                self.bytes = True
                if _NO_SPAN is not None:  # see `found`
                    self._match = getattr(getattr(self.regex, "_regexp", None), "Match", None)
                return
            except Exception as exc:  # noqa: BLE001 - a pattern RE2 cannot take still works with re
                log.warning("triage: rule pattern not RE2-compatible (%s); using re", exc)
        self.regex = re.compile(pattern, re.IGNORECASE | re.DOTALL)

    def found(self, text: str, encoded: bytes) -> bool:
        """Whether the pattern occurs. With RE2, its matcher is asked for the span alone: the
        module's `search` builds a generator and a match object, twice the cost of the scan
        for a short message (most messages match no rule)."""
        if self._match is not None:
            return self._match(_UNANCHORED, encoded, 0, len(encoded))[0] != _NO_SPAN
        return self.search(text, encoded) is not None

    def search(self, text: str, encoded: bytes) -> str | None:
        """The matched words, or None."""
        if self.bytes:
            match = self.regex.search(encoded)
            return match.group(0).decode("utf-8", "replace") if match else None
        match = self.regex.search(text)
        return match.group(0) if match else None


try:
    import re2 as _re2

    _RE2_OPTIONS = _re2.Options()
    _RE2_OPTIONS.case_sensitive = False
    _RE2_OPTIONS.dot_nl = True
    _RE2_OPTIONS.word_boundary = True
    _RE2_OPTIONS.max_mem = 64 << 20
    # the module's own names for "search anywhere" and "no match", for `_Rule.found`
    _UNANCHORED = getattr(getattr(_re2, "_Anchor", None), "UNANCHORED", None)
    _NO_SPAN = getattr(_re2, "_NULL_SPAN", None) if _UNANCHORED is not None else None
except ImportError:  # pragma: no cover - google-re2 is a dependency; a platform without a wheel still works
    _re2 = _NO_SPAN = None

_CANT = r"(?:can'?t|cannot|can\s+not|unable\s+to|couldn'?t|not\s+able\s+to|no\s+way\s+to)"
_LOGIN = r"(?:log\s*-?\s*in|login|sign\s*-?\s*in|signin|acc?ess?|get\s+in(?:to)?|connect|reach|open|load)"
_SYSTEM = (r"(?:site|sites|website|web\s*site|service|sevice|servcie|servers?|app|apps|api|dashboard|everything|trkv"
           r"|trkv-web\.app|platform|workspace|login\s+page|whole\s+thing|web\s*app|system|region)")
_DOWN = r"(?:down|dwn|donw|dead|offline|unreachable|unavailable|not\s+loading|won'?t\s+load|not\s+responding|inaccessible)"
_ALL = r"(?:everyone|everybody|all\s+(?:of\s+)?(?:us|users|our\s+users|customers|pages?)|the\s+whole\s+(?:team|company|org)|every\s+(?:page|request|user))"
_SECRET = r"(?:api[\s_-]*keys?|keys?|tokens?|passwords?|credentials?|secrets?|access\s+token)"
_DATA = (r"(?:data|projects?|files?|records|history|workspace|boards?|tasks|cards|attachments?|time\s+entries|comments"
         r"|everything)")
_SERVER = (r"(?:server|service|daemon|cluster|master|namenode|datanode|name\s+node|data\s+node|resource\s*manager"
           r"|node\s*manager|job\s*tracker|task\s*tracker|scheduler|gateway|broker|database|db|backend|worker)s?")
_GONE = r"(?:gone|lost|deleted|wiped|erased|disappeared|dissapeared|vanished|missing|empty|destroyed)"

_CRITICAL_RULES: dict[str, str] = {
    "outage": (
        rf"\b{_SYSTEM}\s+(?:is\s+|seems\s+(?:to\s+be\s+)?|looks\s+|went\s+|has\s+been\s+|been\s+|are\s+|is\s+completely\s+)?"
        rf"(?:completely\s+|totally\s+)?{_DOWN}\b"
        r"|\b(?:total|major|full|complete|big|global)?\s*outage\b"
        rf"|\bdown\s+for\s+{_ALL}"
        rf"|\b50[234]\b.{{0,40}}\b(?:for\s+)?{_ALL}"
        rf"|\b(?:nobody|no\s+one|noone|none\s+of\s+us)\s+(?:can|could|is\s+able\s+to|in\s+\w+\s+can)\s+(?:\w+\s+)?{_LOGIN}"
        rf"|\b{_CANT}\s+{_LOGIN}\s+anywhere\b"
        rf"|\b(?:whole|entire)\s+(?:team|company|org|organi[sz]ation|office)\s+(?:is\s+)?locked\s+out\b"
        r"|\blocked\s+out\b.{0,30}\b(?:whole|entire|all)\b"
        r"|\bcompletely\s+(?:down|broken|unusable)\b|\bservice\s+unavailable\b"
        rf"|\b{_CANT}\s+(?:access|reach|open)\s+(?:the\s+)?(?:site|app|trkv|anything)\b"
        # the same in an engineer's words: a server process that dies, hangs or does not start
        rf"|\b{_SERVER}\b.{{0,30}}\b(?:crash(?:es|ed)?|hangs?|hung|dies|died|shuts?\s+down|goes\s+down|went\s+down"
        r"|fails?\s+to\s+(?:start|come\s+up|restart|recover)|(?:won'?t|doesn'?t|does\s+not|cannot|can'?t)\s+start"
        r"|becomes?\s+unresponsive|is\s+stuck)\b"
        r"|\bdead\s*lock(?:s|ed)?\b|\bcluster\s+(?:is\s+)?(?:down|unusable|unavailable)\b"
        rf"|\b{_SERVER}\b.{{0,40}}\b(?:out\s*of\s*memory|outofmemoryerror|oom|infinite\s+loop|killed)\b"
        r"|\b(?:all|every)\s+(?:the\s+)?(?:jobs?|requests?|queries|writes|reads|applications?|clients?)\s+"
        r"(?:now\s+)?(?:fail|fails|failed|are\s+failing|hang|time\s*out)\b"
        # a process that runs out of memory, threads or connections, or stops making progress, is down next
        r"|\bout\s+of\s+memory\b|\boutofmemoryerror\b|\boom(?:s|ed|-killed)?\b"
        r"|\b(?:thread|connection|resource|socket|file\s+(?:handle|descriptor))s?\s+(?:exhaustion|starvation|leaks?)\b"
        r"|\bleak(?:s|ing)?\s+(?:of\s+)?(?:\w+\s+){0,2}(?:connections|threads|instances|sockets|file\s+handles)\b"
        r"|\bnot\s+releasing\b.{0,30}\bconnections\b"
        r"|\b(?:could\s+be|can\s+be|is|are|gets?|got|getting|becomes?)\s+stuck\b|\bhangs?\s+(?:forever|indefinitely)\b"
        # a server that throws on start-up does not start
        r"|\b(?:npe|nullpointerexception)\b.{0,60}\b(?:when\s+|while\s+|on\s+|at\s+|during\s+)?"
        r"(?:starting|start-?up|launching|initiali[sz]ing|initiali[sz]ation|bootstrap\w*)\b"
        r"|\b(?:npe|nullpointerexception|exception)\b.{0,40}\bcrash(?:es|ed)?\s+the\b"
        r"|\bcrash(?:es|ed|ing)?\s+(?:the\s+|our\s+|a\s+)?\w*(?:server|service|daemon|process|jvm|cluster|broker"
        r"|gateway|worker)s?\b"
        # for the people who build on us: a broken build or release, or a change that breaks compatibility
        r"|\b(?:build|release|compilation)\b[^\n.]{0,30}\b(?:fail(?:s|ed|ure|ing)?|broken|breaks?)\b"
        r"|\b(?:fail(?:s|ed|ure)?|broken|breaks)\b[^\n.]{0,20}\bbuild\b"
        r"|\bbreak(?:s|ing)?\s+(?:the\s+)?(?:backwards?\s+|binary\s+|api\s+|wire\s+)?compatib\w*"
        r"|\b(?:backwards?|binary|api|wire)\s+incompatib\w*|\bincompatible\s+change\b"
        # every client turned away at the door: authentication that fails for reasons of ours
        r"|\b(?:causes?|caus(?:ing|ed)|results?\s+in|leads?\s+to|getting)\s+(?:\w+\s+){0,2}"
        r"(?:auth|authentication|login|sign-?in)\s+failures\b"
    ),
    "security": (
        rf"\b(?:leak(?:ed)?|exposed?|compromi[sz]ed|breach(?:ed)?|hacked|stolen|dumped)\b.{{0,40}}\b(?:{_SECRET}|accounts?|data)\b"
        rf"|\b{_SECRET}\b.{{0,30}}\b(?:leak(?:ed)?|exposed|public(?:ly)?|compromi[sz]ed|stolen|in\s+plain)\b"
        r"|\b(?:account|accounts)\s+(?:was|were|got|has\s+been|have\s+been)\s+(?:hacked|compromi[sz]ed|taken\s+over|stolen)"
        r"|\bsecurity\s+(?:issue|hole|vulnerability|incident|problem|bug|breach)\b|\bvulnerabilit(?:y|ies)\b"
        r"|\bxss\b|\bsql\s*-?\s*injection\b|\bcsrf\b|\bremote\s+code\s+execution\b|\brce\b"
        r"|\bunauthori[sz]ed\s+(?:access|login|logins)\b|\bdata\s+breach\b|\bbreach\b"
        r"|\b(?:see|seeing|see\s+all|shows?|showing|access\s+to)\b.{0,40}\b(?:other|another|different)\s+"
        r"(?:company'?s?|customers?'?|users?'?|people'?s?|workspace'?s?|accounts?)\b"
        r"|\blogs?\s+(?:me\s+)?in(?:to)?\s+(?:as\s+)?someone\s+else'?s?\b"
        r"|\b(?:former|ex-?)\s*(?:employee|colleague|staff\s+member|contractor)\b.{0,40}\b(?:access|logged\s+in)\b"
        r"|\bcve-\d{4}-\d+|\bprivilege\s+escalation\b|\b(?:authentication|authori[sz]ation|security|acl)\s+bypass"
        r"|\bbypass(?:es|ed|ing)?\s+(?:the\s+)?(?:authentication|authori[sz]ation|security|permission|acl)"
        r"|\barbitrary\s+(?:code|command)s?\b|\b(?:passwords?|secrets?|credentials?|tokens?|keys?)\b.{0,20}"
        r"\b(?:in\s+)?(?:plain\s*text|clear\s*text)\b"
        r"|\b(?:attacker|intruder)\b|\bsomeone\s+(?:logged|got)\s+in(?:to)?\s+my\s+account\b"
    ),
    "data_loss": (
        rf"\b(?:all|my|our|every|entire|whole)\s+(?:of\s+)?(?:my\s+|our\s+|the\s+)?{_DATA}\s+"
        rf"(?:is|are|got|has|have|were|was|just)?\s*(?:been\s+|all\s+|completely\s+)?{_GONE}\b"
        rf"|\b(?:all|every)\s+{_DATA}\b.{{0,50}}\b(?:were|was|got|are|is|have\s+been|has\s+been)\s+(?:all\s+)?{_GONE}\b"
        r"|\bdata\s+loss\b|\blost\s+(?:all|everything|our\s+data|my\s+data|years)\b"
        r"|\beverything\s+(?:is\s+|was\s+|got\s+)?(?:gone|deleted|wiped|lost)\b"
        rf"|\b(?:wiped|erased|deleted)\s+(?:out\s+)?(?:all|our|my|the\s+whole|the\s+entire|every)\b.{{0,20}}{_DATA}"
        rf"|\b{_DATA}\s+(?:got|was|were|has\s+been|have\s+been)\s+(?:wiped|erased)\b"
        r"|\bworkspace\s+is\s+(?:now\s+)?empty\b|\b(?:nothing|none)\s+(?:is\s+)?left\b"
        # the same in an engineer's words: corruption, lost writes
        r"|\b(?:data|file|files|block|blocks|database|index|table|record|records|edit\s+log|journal|metadata)\s+"
        r"(?:is\s+|are\s+|gets?\s+|got\s+|becomes?\s+)?corrupt(?:ed|ion|s)?\b"
        r"|\bcorrupt(?:s|ed|ing|ion\s+of)?\s+(?:the\s+)?(?:data|files?|blocks?|database|index|records?|metadata|state)\b"
        r"|\b(?:data|blocks?|files?|edits|records|writes|updates)\s+(?:are|is|were|was|gets?|got|can\s+be|may\s+be)\s+"
        r"(?:permanently\s+|silently\s+)?(?:lost|deleted|dropped|destroyed)\b|\bloss\s+of\s+data\b"
        r"|\b(?:wrong|incorrect)\s+(?:results|data)\b.{0,40}\bsilently\b|\bsilently\b.{0,40}\b(?:wrong|incorrect)\s+(?:results|data)\b"
        r"|\bdata\s+corruption\b|\b(?:loses|losing|lose)\s+(?:data|writes|updates|records|blocks|edits|files)\b"
        r"|\b(?:irrecoverable|unrecoverable)\b|\bsilently\s+(?:drops?|discards?|overwrites?|deletes?|loses?)\b"
        r"|\bget\s+(?:my|our)\s+data\s+back\b|\brestore\s+(?:our|my)\s+(?:data|workspace|projects)\b"
        # records that are duplicated, dropped or thrown away are wrong data nobody notices
        r"|\bduplicat(?:es|ing|ed)\s+(?:\w+\s+){0,2}records\b|\brecords?\s+(?:are|is|get|gets)\s+(?:duplicated|dropped|skipped)\b"
        r"|\bdiscard(?:s|ed|ing)\b.{0,40}\bwithout\b|\bmoves?\b.{0,40}\brather\s+than\s+delet"
        # stored data that can no longer be read back is lost to its owner
        r"|\b(?:files?|data|blocks?|backups?|archives?|records?|objects?|buckets?)\s+(?:are\s+|is\s+)?(?:now\s+)?"
        r"(?:cannot|can\s*not|can'?t|could\s*not|couldn'?t)\s+be\s+(?:read|decompressed|decrypted|opened|restored|recovered)\b"
        r"|\b(?:files?|data|blocks?|backups?|archives?|buckets?)\b.{0,30}\bunreadable\b"
        r"|\bunreadable\s+(?:files?|data|blocks?|backups?|archives?)\b"
    ),
}
# A rule is switched off when the message says the emergency is over or hypothetical.
_CALM = {
    "outage": re.compile(r"\b(?:fine\s+now|back\s+(?:up|online)|working\s+again|resolved\s+now|was\s+the\s+site\s+down"
                         r"|maintenance\s+window|last\s+night|yesterday\s+but)\b", re.IGNORECASE),
    "security": re.compile(r"\b(?:whitepaper|soc\s*2|security\s+keys?|pen\s*test\s+report|verify\s+your\s+wallet"
                           r"|click\s+the\s+link|claim\s+\d)\b", re.IGNORECASE),
    "data_loss": re.compile(r"\bnot\s+urgent\b|\bold\s+one\b|\bby\s+mistake\b|\bbefore\s+we\s+archive\b", re.IGNORECASE),
}
_SPACES = re.compile(r"[^\S\n]+")
_COMPILED = {name: _Rule(pattern) for name, pattern in _CRITICAL_RULES.items()}
_ANY = _Rule("|".join(f"(?:{pattern})" for pattern in _CRITICAL_RULES.values()))  # one pass for most messages


def critical_reasons(text: str) -> list[str]:
    """The names of the Critical rules the text matches, each with the words that matched."""
    reasons = []
    if not text.isascii():  # RE2's \s is ASCII whitespace: a no-break space between words is still a space
        text = _SPACES.sub(" ", text)
    encoded = text.encode("utf-8", "surrogatepass")
    if not _ANY.found(text, encoded):
        return reasons
    for name, rule in _COMPILED.items():
        words = rule.search(text, encoded)
        if words is not None and not _CALM[name].search(text):
            reasons.append(f"{name}: {' '.join(words.split())[:80]}")
    return reasons
