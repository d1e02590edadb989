"""The Critical rule layer: outages, security issues and data loss.

Critical is a safety decision, so it is an explicit list of phrasings that the
learned model can only add to, never overrule. Each rule has a name that is shown
to the agent as the reason a ticket was made Critical.
"""

from __future__ import annotations

import re

_CRITICAL_RULES: dict[str, str] = {
    "outage": r"\b(site|service|app|api|dashboard|everything|trkv|server|platform)\s+(is\s+|seems\s+|looks\s+)?"
    r"(down|dead|offline|unreachable|not\s+loading)\b|\boutage\b|\bdown\s+for\s+(everyone|everybody|all)\b"
    r"|\b50[234]\b.{0,40}\b(everyone|everybody|all|every\s+page)\b|\bnobody\s+can\b|\bno\s+one\s+can\b"
    r"|\bcan'?t\s+log\s*in\s+anywhere\b|\bcompletely\s+(down|broken)\b|\btotal\s+outage\b",
    "security": r"\b(leak(ed)?|exposed|compromised?|breach(ed)?|hacked|stolen)\b.{0,40}"
    r"\b(key|token|password|credential|account|data|secret)s?\b"
    r"|\b(api\s+key|token|password|credentials?)\b.{0,30}\b(leak(ed)?|exposed|public|compromised)\b"
    r"|\bsecurity\s+(issue|hole|vulnerability|incident)\b|\bvulnerabilit(y|ies)\b|\bxss\b|\bsql\s+injection\b"
    r"|\bunauthori[sz]ed\s+access\b|\bdata\s+breach\b",
    "data_loss": r"\b(all|my|our)\s+(data|projects?|files|records|history|workspace)\s+(is|are|got|has|have)?\s*"
    r"(gone|lost|deleted|wiped|disappeared|vanished|missing)\b|\bdata\s+loss\b|\blost\s+(all|everything)\b"
    r"|\beverything\s+(is\s+)?(gone|deleted|wiped)\b",
}
_COMPILED = {name: re.compile(pattern, re.IGNORECASE | re.DOTALL) for name, pattern in _CRITICAL_RULES.items()}
# A rule's regex runs only when one of its words is in the text: most messages have none,
# and the substring checks cost a fraction of the regexes.
_TRIGGERS = {
    "outage": ("down", "outage", "offline", "unreachable", "not loading", "dead", "50", "nobody can", "no one can",
               "anywhere", "completely"),
    "security": ("leak", "expos", "compromis", "breach", "hack", "stolen", "security", "vulnerab", "xss",
                 "injection", "unauthori", "public"),
    "data_loss": ("gone", "lost", "delete", "wiped", "disappeared", "vanished", "missing", "data loss"),
}


def critical_reasons(text: str) -> list[str]:
    """The names of the Critical rules the text matches, with the matched words."""
    reasons = []
    lowered = text.lower()
    for name, pattern in _COMPILED.items():
        if not any(word in lowered for word in _TRIGGERS[name]):
            continue
        match = pattern.search(text)
        if match:
            reasons.append(f"{name}: {match.group(0)[:80]}")
    return reasons
