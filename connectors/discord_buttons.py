"""Buttons on the hub's Discord messages (a survey's five scores), answered through the
gateway's INTERACTION_CREATE events.

Each button's custom id carries everything needed to answer it (`csat:<token>:<score>`),
so the buttons keep working after a restart: a discord.py DynamicItem registered on the
client at start-up matches the id by its template and hands it to `answer`, a function
the workflow layer provides (connectors know nothing of storage). Its text goes back
to the presser only (an ephemeral response).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import discord

log = logging.getLogger(__name__)

SURVEY_TEMPLATE = r"csat:(?P<token>[0-9A-Za-z_.-]{1,80}):(?P<score>[1-5])"

# (token, score, presser's user id) -> the text shown to the presser
Answer = Callable[[str, int, str], str]


def survey_button(answer: Answer) -> type:
    """A DynamicItem class that answers survey buttons with `answer`."""

    class SurveyButton(discord.ui.DynamicItem[discord.ui.Button], template=SURVEY_TEMPLATE):
        def __init__(self, token: str, score: int) -> None:
            super().__init__(discord.ui.Button(label=str(score), custom_id=f"csat:{token}:{score}"))
            self.token, self.score = token, score

        @classmethod
        async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item, match) -> SurveyButton:
            return cls(match["token"], int(match["score"]))

        async def callback(self, interaction: discord.Interaction) -> None:
            try:  # the answer writes to the database: off the gateway's event loop
                text = await asyncio.to_thread(answer, self.token, self.score, str(interaction.user.id))
            except Exception:
                log.exception("discord: a survey button press could not be recorded")
                text = "Sorry, we could not record that; please try again later."
            await interaction.response.send_message(text[:2000], ephemeral=True)

    return SurveyButton


def register(client: discord.Client, answer: Answer | None) -> None:
    if answer is not None:
        client.add_dynamic_items(survey_button(answer))
