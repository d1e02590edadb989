"""Canned replies for the composer. `{name}` and `{ref}` are filled in on the page;
the agent edits the text before sending."""

from __future__ import annotations

REPLIES = {
    "thanks_investigating": "Hi {name}, thanks for the report! We're looking into it now and will update you here "
                            "as soon as we know more. ({ref})",
    "need_details": "Hi {name}, could you tell us which browser and app version you're using, and the steps that "
                    "lead to the problem? That helps us reproduce it. ({ref})",
    "fixed": "Hi {name}, good news: this is fixed now. Could you check on your side and let us know if anything "
             "still looks wrong? ({ref})",
    "feature_logged": "Hi {name}, thanks for the idea! We've logged it for the product team. ({ref})",
    "docs_pointer": "Hi {name}, the steps are in our documentation: https://docs.trkv-web.app. Let us know if "
                    "anything there is unclear. ({ref})",
}

TITLES = {
    "thanks_investigating": "Thanks, investigating",
    "need_details": "Need more details",
    "fixed": "Fixed, please confirm",
    "feature_logged": "Feature request logged",
    "docs_pointer": "Point to the docs",
}


def fill(key: str, *, name: str, ref: str) -> str:
    return REPLIES[key].format(name=name or "there", ref=ref)
