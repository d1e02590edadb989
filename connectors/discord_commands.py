"""Slash commands on Discord (`/kb query`), through discord.py's `app_commands`.

The command tree is built on the client at start-up and registered once the bot has
logged in, with one bulk overwrite (`PUT /applications/{app}/guilds/{guild}/commands`,
or the global route without a guild: guild commands show at once, global ones can take
an hour). An APPLICATION_COMMAND interaction (gateway INTERACTION_CREATE, type 2) then
reaches the command's callback, which hands the asker's words to `answer`, a function
the workflow layer provides (connectors know nothing of storage or search), and answers
only the asker (an ephemeral response). Discord drops an interaction that gets no response
within 3 s, so an answer still being worked out after `DEFER_AFTER` (a process's first
search builds the KB index) is deferred ("thinking", ephemeral) and sent as a follow-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import discord
from discord import app_commands

log = logging.getLogger(__name__)

MAX_QUERY = 200
DEFER_AFTER = 2.0  # seconds; Discord's limit for the first response is 3
SORRY = "Sorry, the knowledge base cannot be searched right now; please try again in a minute."

# (command name, its options, the asker's user id) -> the text shown to the asker
Answer = Callable[[str, dict[str, str], str], str]


def command_tree(client: discord.Client, answer: Answer, guild_id: str | None) -> app_commands.CommandTree:
    """The bot's commands on `client`: `/kb query`, in the guild (or globally without one)."""
    tree = app_commands.CommandTree(client)

    @app_commands.command(name="kb", description="Search the TRKV knowledge base")
    @app_commands.describe(query="What are you looking for?")
    async def kb(interaction: discord.Interaction, query: app_commands.Range[str, 1, MAX_QUERY]) -> None:
        # the answer reads the database: off the gateway's event loop
        work = asyncio.ensure_future(asyncio.to_thread(answer, "kb", {"query": query}, str(interaction.user.id)))
        quiet = discord.AllowedMentions.none()
        try:
            await asyncio.wait_for(asyncio.shield(work), DEFER_AFTER)
        except asyncio.TimeoutError:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.followup.send((await _text(work))[:2000], ephemeral=True, allowed_mentions=quiet)
            return
        except Exception:
            pass  # _text says sorry
        await interaction.response.send_message((await _text(work))[:2000], ephemeral=True, allowed_mentions=quiet)

    tree.add_command(kb, guild=discord.Object(int(guild_id)) if guild_id else None)
    return tree


async def _text(work: asyncio.Future) -> str:
    try:
        return await work
    except Exception:
        log.exception("discord: /kb could not be answered")
        return SORRY


async def register(tree: app_commands.CommandTree, guild_id: str | None) -> None:
    """Overwrite the bot's commands with ours; a refusal is logged, the receiver runs on."""
    try:
        await tree.sync(guild=discord.Object(int(guild_id)) if guild_id else None)
    except discord.HTTPException as exc:
        log.warning("Discord: the /kb command is not registered (%s %s); invite the bot with the "
                    "applications.commands scope", exc.status, exc.text or exc)
