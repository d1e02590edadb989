"""Tone: what rules `no_action` out (a complaint, anger or a question) and what is praise.

`no_action` means nobody needs to answer. A complaint in public, an angry message or a
question always needs an answer, so the model's `no_action` is overruled by any of:
- negative sentiment (VADER compound at or below NEGATIVE), read on the first ~300 characters;
- a question: a question mark outside links, or an opening question word;
- a complaint cue: words people use about something that went wrong with a service,
  which VADER's lexicon misses or outweighs ("wow you guys suck" scores +0.23,
  "waiting on baggage for 15 minutes 😡" scores 0). The list is written from general
  customer-service language, not from any evaluation file.
Praise (positive, with none of the above) may stay `no_action`; it is flagged so the
hub can thank the person instead of opening the usual acknowledgement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEAD_CHARS = 600  # the tone is set in the opening; a long email costs no more than a short one
NEGATIVE = -0.05  # VADER's own threshold for "negative"
PRAISE = 0.3

# "no problem", "no issues at all", "without any trouble": the words of a complaint, said of its absence
_ABSENT = re.compile(r"\b(?:no|not\s+an?|without\s+(?:any\s+)?|never\s+an?)\s+(?:problems?|issues?|worries|trouble|delay|wait(?:ing)?)\b",
                     re.IGNORECASE)
# a sentence that ends in a question mark; "thoughts?" or "anyone else?" tacked on to chatter is too short to ask
_ASKED = re.compile(r"[^.!?\n]*\?")
_AUTOMATED = re.compile(r"\b(?:out\s+of\s+(?:the\s+)?office|auto(?:matic)?[\s-]?(?:reply|response)|away\s+until"
                        r"|on\s+(?:vacation|holiday|leave)\s+until|limited\s+access\s+to\s+(?:e-?mail|my\s+inbox))\b", re.IGNORECASE)
_THANKS = re.compile(r"\b(?:thanks|thank\s+you|thx|ty|kudos|cheers|rock(?:s|ed)?|legends?|lifesaver|shout\s*out)\b"
                     r"|[\U0001F64C\U0001F64F\U0001F44F\U0001F44D\U0001F49C\U0001F499\U0001F49A\u2764\U0001F60D\U0001F970\U0001F525]",
                     re.IGNORECASE)
_MENTION = re.compile(r"(?:^|\s)[@#]\w+")
_URL = re.compile(r"\S+://\S+|www\.\S+")
_QUESTION_START = re.compile(
    r"^\W*(?:how|what|why|when|where|who|whom|which|whose|can|could|would|will|should|shall|is|are|am|was|were|do|does"
    r"|did|have|has|had|may|might|any(?:one|body)\s+(?:know|else\s+(?:have|has|get|seeing))|is\s+there|are\s+there|wondering|wonder)\b", re.IGNORECASE)
_COMPLAINT = re.compile(
    r"\b(?:suck(?:s|ed)?|worst|terrible|horrible|awful|useless|ridiculous|unacceptable|disgusting|pathetic|joke"
    r"|rip(?:ped)?\s*off|scam|wtf|ffs|smh|fed\s+up|sick\s+of|tired\s+of|annoy\w*|frustrat\w*|disappoint\w*|furious"
    r"|angry|mad\s+at|complain\w*|refund|compensat\w*|still\s+(?:waiting|no|not|haven'?t|hasn'?t|nothing)"
    r"|waiting\s+(?:on|for)|been\s+waiting|waited|on\s+hold|no\s+(?:one|body)\s+(?:answers?|replies|responds?|helps?|tells?)"
    r"|nobody|no\s+response|no\s+reply|never\s+(?:arrived|came|received|got)|not\s+(?:arrived|received|working|work)"
    r"|doesn'?t\s+work|does\s+not\s+work|didn'?t\s+work|won'?t\s+(?:work|let|load|open)|can'?t\s+(?:get|log|find|access|use|believe)"
    r"|broken|broke|damaged?|lost|missing|delay(?:ed|s)?|cancel(?:l?ed)|overcharg\w*|charged\s+(?:twice|me)|stuck"
    r"|late|wrong|fail(?:s|ed|ing)?|crash(?:es|ed|ing)?|(?:please|pls|plz)\s+fix|fix\s+(?:this|it|that)"
    # a request is a question in other words
    r"|(?:i|we)\s+(?:need|want|would\s+like|'d\s+like|am\s+trying|'m\s+trying|try|tried|have\s+to)|(?:need|want|trying)\s+to|wanna"
    r"|assist(?:ance)?|help\s+(?:me|us|with)|need\s+(?:some\s+)?help|(?:can|could)\s+(?:you|someone|anyone)\s+help"
    r"|how\s+(?:do|can|to)|let\s+me\s+know\s+(?:how|if|when|why))\b"
    r"|[\U0001F620\U0001F621\U0001F624\U0001F92C\U0001F47F\U0001F4A2\U0001F612\U0001F611\U0001F644\U0001F62D\U0001F622"
    r"\U0001F629\U0001F62B\U0001F61E\U0001F61F\U0001F615\U0001F641\u2639\U0001F44E]",
    re.IGNORECASE)


@dataclass(frozen=True)
class Tone:
    sentiment: float
    question: bool
    complaint: str | None  # the cue words, when there are any

    automated: bool = False  # an out-of-office or auto-reply: answering it starts a mail loop

    @property
    def rules_out_no_action(self) -> bool:
        return not self.automated and (self.sentiment <= NEGATIVE or self.question or self.complaint is not None)

    thanks: bool = False  # words of thanks or praise that VADER's lexicon lacks ("you guys rock", 🙌)

    @property
    def praise(self) -> bool:
        return (self.sentiment >= PRAISE or self.thanks) and not self.rules_out_no_action and not self.automated

    def reasons(self) -> list[str]:
        out = []
        if self.sentiment <= NEGATIVE:
            out.append(f"negative sentiment {self.sentiment:+.2f}")
        if self.question:
            out.append("a question")
        if self.complaint:
            out.append(f"complaint: {self.complaint}")
        return out


def read(text: str, sentiment: float) -> Tone:
    """The tone of a message (subject and text), given its sentiment."""
    plain = _URL.sub(" ", text[:HEAD_CHARS]) if "://" in text[:HEAD_CHARS] or "www." in text[:HEAD_CHARS] else text[:HEAD_CHARS]
    bare = _MENTION.sub(" ", plain).strip() if "@" in plain or "#" in plain else plain.strip()
    question = ("?" in bare and any(len(q.split()) >= 3 for q in _ASKED.findall(bare))) or bool(_QUESTION_START.match(bare))
    cue = _COMPLAINT.search(_ABSENT.sub(" ", plain))
    return Tone(sentiment, question, cue.group(0) if cue else None, bool(_AUTOMATED.search(plain)),
                bool(_THANKS.search(plain)))
