"""The words robots write: sender names, subjects and sentences of bounces and auto-replies,
from RFC 3464/3834 and the notices of common mail systems (Postfix, Sendmail, Exim, qmail,
Exchange/Office 365, Gmail, Yahoo, AOL, Lotus/Domino, GroupWise, list managers).

Kept apart from the decision (connectors/mail/robots.py) so the lists can grow without
the logic. Sentences a person might also write ("delivery failed", "out of office") are
only ever weak evidence there.
"""

from __future__ import annotations

import re

try:
    import re2 as _re2
except ImportError:  # pragma: no cover - google-re2 is a dependency; without a wheel the answers are the same
    _re2 = None


def _compile(pattern: str, flags: int = 0):
    """RE2 where it is installed: these patterns are long alternations, which Python's
    backtracking engine tries at every position of the text (about 0.5 ms a message);
    RE2 reads the text once. Both take the same syntax here and give the same answers."""
    if _re2 is not None:
        inline = ("i" if flags & re.I else "") + ("m" if flags & re.M else "")
        try:
            return _re2.compile((f"(?{inline})" if inline else "") + pattern)
        except Exception:  # noqa: BLE001 - a pattern RE2 cannot take still works with re
            pass
    return re.compile(pattern, flags)


def _words(*alternatives: str) -> str:
    return "|".join(alternatives)


# Local parts and display names, lowercased with everything but letters and digits removed
# ("MAILER_DAEMON", "Mail-Daemon", "Mail Delivery Subsystem" -> "mailerdaemon", ...).
DAEMON_RE = _compile(
    r"^(mailer?daemon|mailerdeamon|maildeamon|mdaemon|maildeliver(y|ysystem|ysubsystem|yservice|ysoftware|yagent)"
    r"|internetmaildeliver\w*|mailsystem|mailsubsystem|deliverystatusnotification|microsoftexchange[0-9a-f]*"
    r"|microsoftoutlook|mailrouter|smtpgateway|mailgateway|mailservice|mailerror|bouncehandler|nondeliveryreport"
    r"|mailscanner|antivirus\w*|virusalert|viruswall|interscan\w*"
    r")\d*$"
)
RESPONDER_RE = _compile(r"^(auto-?respon(der|se|d)|auto-?reply|vacation|outofoffice|abwesenheit)\d*$")
POSTMASTER_RE = _compile(r"^(postmaster|postmast|postoffice|mailadmin(istrator)?|systemadministrator|mailmaster"
                           r"|hostmaster|mailpostmaster)\d*$")
LIST_MANAGER_RE = _compile(
    r"^(listserv|listproc|majordomo|mailman|sympa|ezmlm|lyris|smartlist|listmanager|listmaster|mlmmj|ecartis"
    r"|owner-.+|.+-owner|.+-request|.+-bounces?|.+\+owners?|bounces?|bounce[-+.].+)$"
)
# "list-admin" and "list-help" answer for list managers (Mailman 2, FML, ezmlm), but people have
# such mailboxes too ("it-admin"): weak evidence, like a postmaster.
LIST_HELPER_RE = _compile(r"^.+[-_](admin|help)$")
NOREPLY_RE = _compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)([-+_.].*)?$", re.I)

# Subjects: a forward of a bounce by a person is a person's mail.
FORWARD_RE = _compile(r"^\s*(fwd?|fw|wg|tr|rv|i|enc|doorst|vs|vb|pd)\s*:", re.I)
_AUTO_MARKERS = _words(
        r"auto(matic|matically generated|mated)?[ _-]?(reply|response|answer|antwort|respond\w*)",
        r"auto(reply|response)", r"auto", r"out[ -]of[ -](the[ -])?office( auto[ -]?reply)?", r"ooo",
        r"on vacation", r"vacation( reply| notice| message)?", r"away from (the|my) (office|desk|e-?mail)",
        r"absence( notice)?", r"abwesenheit\w*", r"automatische (antwort|antwoord)", r"automatisch antwoord",
        r"réponse automatique", r"reponse automatique", r"absent\w*( du bureau)?", r"respuesta autom[aá]tica",
        r"fuera de la oficina", r"risposta automatica", r"fuori (sede|ufficio)", r"afwezig\w*",
        r"autosvar", r"automatisk svar", r"automaattinen vastaus", r"poissa", r"odpowied[zź] automatyczna",
        r"automatick[aá] odpov[eě][dď]", r"resposta autom[aá]tica", r"ausente", r"fora do escrit[oó]rio",
        r"автоматический ответ", r"автоответ", r"自動応答", r"自動返信", r"自动回复", r"自動回覆", r"자동 응답",
        r"(i am|i'm|je suis|ich bin) (currently |now )?(out of (the )?office|away|on (vacation|leave|holiday)|absent\w*)",
        r"不在(通知|のお知らせ|連絡)?", r"부재중?( 알림)?", r"fraværsbesked|fraværende|frånvaro(meddelande)?",
        r"poissaolo(ilmoitus)?", r"nepřítomnost", r"nieobecność", r"ausência", r"assente", r"ausencia",
        r"otomatik (yan[ıi]t|cevap)", r"automatikus v[aá]lasz", r"αυτόματη απάντηση", r"תשובה אוטומטית",
        r"رد تلقائي", r"tự động trả lời", r"balasan automatik", r"automatische beantwoording",
)
AUTO_SUBJECT_RE = _compile(r"^\s*\[?(" + _AUTO_MARKERS + r")\]?\s*(:|-|–|\(|$)", re.I)
# "Autoresponse from Kim", "Auto reply from ...": only with an automatic sentence in the body,
# since a person writes "Auto reply not working".
AUTO_SUBJECT_START_RE = _compile(r"^\s*\[?(" + _AUTO_MARKERS + r")", re.I)
# Complaint reports that are not ARF (Hotmail's JMRP) and receipts that are not MDNs (Outlook).
REPORT_SUBJECT_RE = _compile(r"^\s*(complaint about message from|(e-?mail )?abuse report|e-?mail feedback report"
                             r"|fbl report|spam complaint)", re.I)
REPORT_TEXT_RE = _compile(r"this is an? (e-?mail )?abuse report|complaint (was )?received|marked (it )?as spam", re.I)
RECEIPT_SUBJECT_RE = _compile(r"^\s*(read|not read|gelesen|ungelesen|lu|non lu|le[ií]do|no le[ií]do|letto|gelezen"
                              r"|delivered|zugestellt|entregado|consegnato|remis)\s*:", re.I)
RECEIPT_TEXT_RE = _compile(r"(was|has been) (read|delivered to the following recipients?)|wurde .{0,80}(gelesen|zugestellt)"
                           r"|a été (lu|remis)|ha sido (le[ií]do|entregado)|è stato (letto|consegnato)", re.I)
BOUNCE_SUBJECT_RE = _compile(
    _words(
        r"undeliver(able|ed)", r"non[- ]?deliver(able|y)", r"not (be )?delivered", r"delivery (status )?notification",
        r"delivery (failure|failed|problem|report|has failed|notice|status)", r"failure notice", r"failure delivery",
        r"returned mail", r"returned to sender", r"mail (delivery|system) (failed|error|failure)",
        r"could not (be )?deliver", r"delayed mail", r"(message|mail) delivery (delayed|warning|failure)",
        r"warning: could not send", r"mail delivery warning", r"message (not delivered|rejected|blocked)",
        r"delivery (status|failure) notification", r"unzustellbar", r"nicht zustellbar", r"non remis",
        r"non recapitabile", r"onbestelbaar", r"no se puede entregar", r"não (foi )?entregue", r"no entregado",
        r"недоставлен", r"не доставлен", r"配信不能", r"退信", r"unable to deliver", r"rejected posting",
        r"(your )?message (to .{1,80} )?(was |has been )?(rejected|held|bounced|blocked)", r"bounced? (mail|message)",
        r"mail system error", r"virus (found|detected|alert)", r"\bdsn\b", r"\bndr\b", r"nachricht konnte nicht zugestellt", r"mensaje no entregado",
        r"配信(エラー|不能|失敗)", r"送信エラー", r"エラーメール",
    ),
    re.I,
)

# Sentences of delivery software: specific enough that a person does not write them.
MACHINE_BOUNCE_RE = _compile(
    _words(
        r"this is the mail system at host", r"i'm sorry to have to inform you that your message",
        r"created automatically by mail delivery software", r"this is the qmail-send program",
        r"delivery to the following recipients? failed", r"your message did not reach some or all",
        r"delivery has failed to these recipients", r"following addresses had (permanent )?fatal errors",
        r"transcript of session follows", r"automatically generated delivery status notification",
        r"could not be delivered to (one or more|the following) (of its )?(recipients?|address(es)?|destinations?)",
        r"message that you sent could not be delivered", r"(unable|not able) to deliver (your|the) message to",
        r"delivery attempts will continue", r"(original|returned) message (follows|below|is attached)",
        r"first \d+ lines of your original message", r"your message (was|has been|wasn't|couldn't be) "
        r"(rejected|returned|bounced|delivered to the following)", r"smtp error from remote mail server",
        r"remote (host|server|mail server) said", r"permanent fatal errors?", r"message (could|can) not be delivered",
        r"did not reach the following recipient", r"this is an advisory-only email", r"the following message "
        r"to <?[^ >]+@[^ >]+>? was undeliverable", r"retry (timeout|time) exceeded",
        r"delivery (to|of email to) (the following|this) (recipients?|address(es)?) (failed|has been)",
        r"message delivery failed", r"returned mail: ", r"unrouteable address", r"mailbox (is )?(full|unavailable)",
        r"user (unknown|not found)|unknown user|no such user|recipient (address )?rejected",
        r"(quota|storage) (exceeded|limit)", r"over quota", r"host (unknown|not found)",
        r"your message to .{1,100} (was|has been) (rejected|held|discarded|forwarded to the list moderator)",
        r"(awaits|requires|pending) moderator approval", r"you are not (allowed|permitted|subscribed)",
        r"non[- ]member (submission|posting)", r"is not a member of", r"(only|list) members (may|can) (post|send)",
        r"unknown (command|list)", r"majordomo|listserv|mailman|sympa|ezmlm",
        r"virus (was )?(found|detected) in (a|the|your) (message|e-?mail)", r"(message|e-?mail) (was )?(quarantined|blocked)",
        r"i'm afraid i wasn't able to deliver", r"(couldn't|could not|wasn't|was not|cannot|can't) be delivered",
        r"(message|mail) was not delivered", r"was not delivered to", r"cannot be reached",
        r"delivery status notification", r"permanent error", r"temporary failure", r"no mailbox here",
        r"(this|the) (e-?mail )?account (does not exist|is (disabled|inactive|suspended))",
        r"konnte nicht zugestellt werden", r"n'a pas (pu|été) (être )?(remis|distribué)",
        r"no se (pudo|ha podido) entregar", r"no (pudo|ha podido) ser entregado",
        r"não (pôde|pode|foi possível) ser entregue", r"non è stato (possibile )?recapitat",
        r"kon niet worden (afgeleverd|bezorgd)", r"не (может быть|было|удалось) доставлен", r"сообщение не доставлено",
        r"配信できません", r"送信できません", r"宛先不明", r"无法投递",
    ),
    re.I,
)
SMTP_CODE_RE = _compile(r"(\b[245]\d\d[ -]#?[245]\.\d{1,3}\.\d{1,3}\b|\b[45]\.[0-7]\.\d{1,3}\b|\b5[05]\d\b.{0,40}"
                          r"(user|mailbox|recipient|address))", re.I)
ENCLOSED_RE = _compile(r"(^|\n)\s*(received: from|message-id: <|return-path: <|original[- ]recipient:"
                         r"|final-recipient:|reporting-mta:|diagnostic-code:)", re.I)
MAIL_FAILURE_RE = _compile(
    _words(r"(e-?mail|message|mail) (could not|couldn't|cannot|can't|was not|wasn't) (be )?deliver",
           r"undeliverable", r"delivery (has )?failed", r"failed permanently", r"delivery (problem|failure)s?",
           r"not (be )?delivered", r"returned to (you|sender)", r"bounced", r"rejected", r"postponed",
           r"zustellung", r"entregar", r"consegna", r"remis"),
    re.I,
)

# Auto-replies: "automatic" and an absence together; either alone is a person's sentence.
AUTOMATIC_RE = _compile(
    _words(r"this is an? auto(matic(ally generated)?|mated|-generated)? ?(reply|response|message|answer|e-?mail)",
           r"(automatically generated|automated) (reply|response|message)", r"automatische antwort", r"réponse automatique", r"respuesta automática",
           r"risposta automatica", r"automatisch antwoord", r"automatiskt svar", r"автоматическ\w+ ответ",
           r"自動(応答|返信)", r"自动回复", r"(please )?do not reply to this (e-?mail|message)"),
    re.I,
)
ABSENCE_RE = _compile(
    _words(r"out of (the )?office", r"on (annual |parental |sick |maternity )?(leave|vacation|holiday)",
           r"away from (the|my) (office|desk|e-?mail)", r"limited access to (my )?e-?mail", r"in my absence",
           r"(until|till|through|from) .{0,40}(return|back)", r"upon my return", r"when i (get )?(return|back)",
           r"nicht im büro|abwesend|im urlaub", r"absent|en congés?|en vacances", r"fuera de la oficina|de vacaciones",
           r"fuori (sede|ufficio)|in ferie", r"afwezig|met vakantie", r"не в офисе|в отпуске", r"不在"),
    re.I,
)

# Report fields (RFC 3464, 5965) that survived as plain text.
ARF_FIELD_RE = _compile(r"^feedback-type:[ \t]*(abuse|fraud|virus|other|not-spam|auth-failure)\b", re.I | re.M)
DSN_RECIPIENT_RE = _compile(r"^(final|original)-recipient:[ \t]*(rfc822|utf-8)[ \t]*;", re.I | re.M)
DSN_ACTION_RE = _compile(r"^(action:[ \t]*(failed|delayed|delivered|relayed|expanded)\b|status:[ \t]*[245]\.\d{1,3}\.\d)",
                           re.I | re.M)
