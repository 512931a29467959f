"""Haven on Discord: a discord.py client run inside Haven's own event loop."""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.webhook.async_ import async_context

from adapters.base import Adapter, DeliveryError, PermanentDeliveryError, Settle, Sink, nothing_to_settle
from adapters.discord import translate
from adapters.discord.client import HavenClient
from bot.actions import (
    Action,
    Ban,
    Button,
    DirectMessage,
    Kick,
    LabelPost,
    LiftTimeout,
    Post,
    RemoveMessage,
    SetRoomMembership,
    SetVerified,
    Timeout,
    Unban,
)
from bot.config import Config, DiscordBinding
from bot.events import Event

log = logging.getLogger(__name__)

MAX_TIMEOUT = timedelta(days=28)  # Discord refuses communication_disabled_until further out
INTERACTION_LIFETIME = 15 * 60  # seconds an interaction token can still be answered
ANSWER_DEADLINE = 2.0  # Discord drops an interaction not acknowledged within 3 s
CANNOT_DM = 50007
# Discord has no link that opens a bot with a start payload (Telegram's deep links), so a
# "deeplink:X" button becomes a button that comes back as an interaction with payload X; its answer
# can be ephemeral, which reaches even someone whose direct messages are closed.
DEEPLINK = "deeplink:"
# The label the core's own fallback text asks the person to tap.
PRIVATE_HELP = Button("Get private help", payload="help")


class DiscordStartError(Exception):
    """Haven cannot run on Discord as configured; the message says what to change."""


class _Interaction:
    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.received = time.monotonic()
        self.lock = asyncio.Lock()
        self.thinking = False  # deferred with a "Haven is thinking..." message to replace


class DiscordAdapter(Adapter):
    platform = "discord"

    def __init__(self, config: Config, *, guild_ready_timeout: float = 2.0) -> None:
        if not config.discord_token:
            raise DiscordStartError("HAVEN_DISCORD_TOKEN is not set: Haven needs the bot token to connect to Discord")
        self._token = config.discord_token
        self._bindings: dict[str, DiscordBinding] = {
            cid: c.discord for cid, c in config.communities.items() if c.discord is not None
        }
        settings = config.adapters.discord
        intents = discord.Intents.none()
        intents.guilds = intents.members = intents.guild_messages = intents.dm_messages = True
        intents.message_content = True
        options: dict[str, Any] = {}
        if settings.shard_count is not None:
            options["shard_count"] = settings.shard_count
        if settings.shard_ids is not None:
            options["shard_ids"] = list(settings.shard_ids)
        self._client = HavenClient(
            intents=intents,
            api_base_url=settings.api_base_url,
            gateway_url=settings.gateway_url,
            # Members arrive with the events that need them; fetching every member list at start
            # would only slow it down on large servers.
            chunk_guilds_at_startup=False,
            guild_ready_timeout=guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False),
            **options,
        )
        self._tree = app_commands.CommandTree(self._client)
        self._sink: Sink | None = None
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._interactions: dict[str, _Interaction] = {}
        for name in ("on_ready", "on_message", "on_raw_message_edit", "on_interaction", "on_member_join",
                     "on_member_update", "on_raw_member_remove"):  # fmt: skip
            setattr(self._client, name, getattr(self, "_" + name))

    # ----- lifecycle -----

    async def start(self, sink: Sink, settle: Settle = nothing_to_settle) -> None:
        self._sink = sink
        # Tasks discord.py spawns inherit this context, so interaction answers made from event
        # handlers go to the configured server too.
        context = contextvars.copy_context()
        context.run(async_context.set, self._client._webhook_adapter)
        self._task = asyncio.create_task(self._client.start(self._token), context=context)
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            ready.cancel()
            exc = self._task.exception()
            if isinstance(exc, discord.PrivilegedIntentsRequired):
                raise DiscordStartError(
                    "Discord refused the Message Content and Server Members intents. Enable both under "
                    "Bot > Privileged Gateway Intents in the Developer Portal: without message content "
                    "every message arrives empty and Haven would screen nothing."
                ) from exc
            if isinstance(exc, discord.LoginFailure):
                raise DiscordStartError("Discord rejected HAVEN_DISCORD_TOKEN") from exc
            raise DiscordStartError(f"could not connect to Discord: {exc!r}") from exc

    async def stop(self) -> None:
        await self._client.close()
        if self._task is not None:
            try:
                await self._task
            except (discord.DiscordException, aiohttp.ClientError, OSError):
                log.exception("discord client ended with an error")

    async def set_commands(self, member: list[tuple[str, str]], moderator: list[tuple[str, str]]) -> None:
        """Register slash commands in every configured guild (global if none is configured).
        Moderator commands are hidden from members by default_member_permissions; Haven checks the
        role again when they are used, since server admins can change who sees them."""
        member_names = {name for name, _ in member}
        commands = [self._command(n, d, moderator=False) for n, d in member]
        commands += [self._command(n, d, moderator=True) for n, d in moderator if n not in member_names]
        guilds = sorted({b.guild_id for b in self._bindings.values()})
        for guild in [discord.Object(g) for g in guilds] or [None]:
            self._tree.clear_commands(guild=guild)
            for command in commands:
                self._tree.add_command(command, guild=guild)
            await self._tree.sync(guild=guild)

    def _command(self, name: str, description: str, *, moderator: bool) -> app_commands.Command:
        handler = self._on_command

        async def callback(
            interaction: discord.Interaction, member: discord.Member | None = None, args: str | None = None
        ) -> None:
            await handler(interaction)

        command = app_commands.Command(name=name, description=(description or name)[:100], callback=callback)
        command.guild_only = True
        if moderator:
            command.default_permissions = discord.Permissions(manage_messages=True)
        return command

    # ----- incoming -----

    def _binding_for(self, channel: Any) -> DiscordBinding | None:
        channel_id = getattr(channel, "id", None)
        category_id = getattr(channel, "category_id", None)
        for binding in self._bindings.values():
            # The moderator and fallback channels belong to the community too: moderators press
            # Acknowledge on alerts there, and their role is only recognised within a binding.
            rooms = (*binding.channel_ids, binding.moderator_channel_id, binding.fallback_channel_id)
            if channel_id in rooms or (category_id and category_id == binding.category_id):
                return binding
        return None

    def _guild_bindings(self, guild_id: int) -> list[DiscordBinding]:
        return [b for b in self._bindings.values() if b.guild_id == guild_id]

    async def _deliver(self, event: Event) -> None:
        assert self._sink is not None
        try:
            await self._sink(event)
        except Exception:
            # One event the core could not handle must not stop the gateway loop.
            log.exception("sink failed on %s %s", type(event).__name__, event.update_id)

    async def _on_ready(self) -> None:
        self._ready.set()

    async def _on_message(self, message: discord.Message) -> None:
        if self._client.user is not None and message.author.id == self._client.user.id:
            return
        await self._deliver(translate.message_created(message, self._binding_for(message.channel)))

    async def _on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        after = payload.message
        if self._client.user is not None and after.author.id == self._client.user.id:
            return
        event = translate.message_edited(after, payload.cached_message, self._binding_for(after.channel))
        if event is not None:
            await self._deliver(event)

    async def _on_command(self, interaction: discord.Interaction) -> None:
        event = translate.command_invoked(interaction, self._binding_for(interaction.channel))
        await self._answered(interaction, event, thinking=True)

    async def _on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.component:
            event = translate.button_pressed(interaction, self._binding_for(interaction.channel))
            await self._answered(interaction, event, thinking=False)

    async def _answered(self, interaction: discord.Interaction, event: Event, *, thinking: bool) -> None:
        """Hand the event to the core; if it has not answered in time, acknowledge for it so
        Discord does not show the user an error. A later Post for the interaction follows up."""
        self._remember(interaction)
        delivery = asyncio.ensure_future(self._deliver(event))
        await asyncio.wait({delivery}, timeout=ANSWER_DEADLINE)
        await self._defer(interaction, thinking=thinking)
        await delivery

    async def _defer(self, interaction: discord.Interaction, *, thinking: bool) -> None:
        entry = self._interactions.get(str(interaction.id))
        if entry is None:
            return
        async with entry.lock:
            if interaction.response.is_done():
                return
            try:
                await interaction.response.defer(ephemeral=thinking, thinking=thinking)
                entry.thinking = thinking
            except discord.HTTPException:
                log.warning("could not acknowledge interaction %s", interaction.id, exc_info=True)

    def _remember(self, interaction: discord.Interaction) -> None:
        now = time.monotonic()
        for key in [k for k, v in self._interactions.items() if now - v.received > INTERACTION_LIFETIME]:
            del self._interactions[key]
        self._interactions[str(interaction.id)] = _Interaction(interaction)

    async def _on_member_join(self, member: discord.Member) -> None:
        for binding in self._guild_bindings(member.guild.id):
            # With a member role, joining the community means getting the role (see member_update).
            if binding.member_role_id is None:
                await self._deliver(translate.member_joined(member, binding))

    async def _on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        had, has = {r.id for r in before.roles}, {r.id for r in after.roles}
        now = datetime.now(timezone.utc)
        for binding in self._guild_bindings(after.guild.id):
            role = binding.member_role_id
            if role is not None and role in has - had:
                await self._deliver(translate.member_joined(after, binding, at=now))
            elif role is not None and role in had - has:
                await self._deliver(translate.member_left(after, binding, now))

    async def _on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        now = datetime.now(timezone.utc)
        for binding in self._guild_bindings(payload.guild_id):
            await self._deliver(translate.member_left(payload.user, binding, now))

    # ----- outgoing -----

    async def perform(self, action: Action) -> str | None:
        handler = self._handlers.get(type(action))
        if handler is None:
            raise TypeError(f"the Discord adapter cannot perform {type(action).__name__}")
        with self._client.webhook_context():
            try:
                return await handler(self, action)
            except DeliveryError:
                raise
            except (discord.Forbidden, discord.NotFound) as e:
                raise PermanentDeliveryError(f"Discord refused {type(action).__name__}: {e}") from e
            except discord.HTTPException as e:
                if e.status == 429 or e.status >= 500:
                    raise DeliveryError(f"Discord could not take {type(action).__name__} now: {e}") from e
                raise PermanentDeliveryError(f"Discord refused {type(action).__name__}: {e}") from e
            except (discord.ConnectionClosed, aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
                raise DeliveryError(f"no connection to Discord for {type(action).__name__}: {e!r}") from e

    def _view(self, buttons: tuple[Button, ...]) -> discord.ui.View | discord.utils._MissingSentinel:
        if not buttons:
            return discord.utils.MISSING
        view = discord.ui.View(timeout=None)
        for b in buttons:
            if b.url is not None and not b.url.startswith(DEEPLINK):
                view.add_item(discord.ui.Button(label=b.label, url=b.url))
            else:
                payload = b.url.removeprefix(DEEPLINK) if b.url is not None else b.payload
                view.add_item(discord.ui.Button(label=b.label, custom_id=payload, style=discord.ButtonStyle.primary))
        # Presses are read from on_interaction by custom_id; a stopped view is rendered but not
        # kept in discord.py's view store, which would otherwise grow with every card sent.
        view.stop()
        return view

    @staticmethod
    def _content(text: str, spoiler: str | None) -> str:
        if not spoiler:
            return text
        hidden = "||" + spoiler.replace("||", "| |") + "||"
        before, found, after = text.partition(spoiler)
        return f"{before}{hidden}{after}" if found else f"{text}\n\n{hidden}"

    async def _post(self, a: Post) -> str | None:
        content = self._content(a.text, a.spoiler)
        if a.interaction_id is not None:
            answered = await self._answer(a.interaction_id, content, a.buttons, a.ephemeral)
            if answered is not None:
                return answered
            if a.ephemeral:
                raise PermanentDeliveryError(f"interaction {a.interaction_id} expired; an ephemeral reply cannot go public")
        return await self._send(int(a.chat_id), content, a.buttons, a.reply_to)

    async def _send(self, channel_id: int, content: str, buttons: tuple[Button, ...], reply_to: str | None) -> str:
        channel = self._client.get_partial_messageable(channel_id)
        reference = None
        if reply_to is not None:
            reference = discord.MessageReference(message_id=int(reply_to), channel_id=channel_id, fail_if_not_exists=False)
        message = await channel.send(content, view=self._view(buttons), reference=reference)  # type: ignore[arg-type]
        return str(message.id)

    async def _answer(self, interaction_id: str, content: str, buttons: tuple[Button, ...], ephemeral: bool) -> str | None:
        """Answer an interaction; None when it is unknown or expired."""
        entry = self._interactions.get(interaction_id)
        if entry is None or time.monotonic() - entry.received > INTERACTION_LIFETIME:
            return None
        interaction, view = entry.interaction, self._view(buttons)
        async with entry.lock:
            if not interaction.response.is_done():
                callback = await interaction.response.send_message(content, ephemeral=ephemeral, view=view)
                return str(callback.message_id) if callback.message_id else None
            if entry.thinking:
                entry.thinking = False
                # The first answer after a "thinking" defer replaces that message and keeps its
                # visibility, which was chosen as ephemeral; a public answer goes to the channel.
                if ephemeral:
                    message = await interaction.edit_original_response(content=content, view=view)
                    return str(message.id)
                await interaction.delete_original_response()
                assert interaction.channel_id is not None
                return await self._send(interaction.channel_id, content, buttons, None)
            message = await interaction.followup.send(content, ephemeral=ephemeral, view=view, wait=True)
            return str(message.id)

    async def _direct_message(self, a: DirectMessage) -> str | None:
        file = discord.File(io.BytesIO(a.attachment[1]), filename=a.attachment[0]) if a.attachment else discord.utils.MISSING
        try:
            user = self._client.get_user(int(a.user_id)) or await self._client.fetch_user(int(a.user_id))
            message = await user.send(a.text, view=self._view(a.buttons), file=file)  # type: ignore[arg-type]
            return str(message.id)
        except discord.Forbidden as e:
            if e.code != CANNOT_DM:
                raise
            log.info("user %s does not accept direct messages; falling back", a.user_id)
        if a.interaction_id is not None:
            # Only the person sees an ephemeral reply, so it may carry the private text itself.
            answered = await self._answer(a.interaction_id, a.text, a.buttons, ephemeral=True)
            if answered is not None:
                return answered
        if a.fallback_chat_id is None:
            raise PermanentDeliveryError(f"user {a.user_id} does not accept direct messages and there is no fallback room")
        text = a.fallback_text or a.text
        return await self._send(int(a.fallback_chat_id), text, (PRIVATE_HELP,), a.fallback_reply_to)

    async def _remove_message(self, a: RemoveMessage) -> None:
        await self._client.http.delete_message(int(a.chat_id), int(a.message_id), reason=a.reason or None)

    def _guild_id(self, chat_id: str) -> int:
        wanted = int(chat_id)
        for binding in self._bindings.values():
            if wanted in binding.channel_ids or wanted in (binding.category_id, binding.guild_id):
                return binding.guild_id
        channel = self._client.get_channel(wanted)
        guild = getattr(channel, "guild", None)
        if guild is None:
            raise PermanentDeliveryError(f"Discord channel {chat_id} is not in a guild Haven knows")
        return guild.id

    async def _timeout(self, a: Timeout) -> None:
        until = a.until
        latest = datetime.now(timezone.utc) + MAX_TIMEOUT - timedelta(minutes=1)
        if until > latest:
            log.warning(
                "timeout of %s until %s is past Discord's 28-day limit; Discord will lift it at %s",
                a.user_id, until.isoformat(), latest.isoformat(),
            )  # fmt: skip
            until = latest
        await self._client.http.edit_member(
            self._guild_id(a.chat_id), int(a.user_id), communication_disabled_until=until.isoformat()
        )

    async def _lift_timeout(self, a: LiftTimeout) -> None:
        await self._client.http.edit_member(self._guild_id(a.chat_id), int(a.user_id), communication_disabled_until=None)

    async def _kick(self, a: Kick) -> None:
        await self._client.http.kick(int(a.user_id), self._guild_id(a.chat_id))

    async def _ban(self, a: Ban) -> None:
        # Discord bans never expire; the core lifts a timed ban with Unban when `until` comes.
        # Their messages stay: moderators may still need them, and removal is the core's call.
        await self._client.http.ban(int(a.user_id), self._guild_id(a.chat_id), delete_message_seconds=0)

    async def _unban(self, a: Unban) -> None:
        await self._client.http.unban(int(a.user_id), self._guild_id(a.chat_id))

    async def _set_room_membership(self, a: SetRoomMembership) -> None:
        binding = self._bindings.get(a.community)
        if binding is None or binding.member_role_id is None:
            raise PermanentDeliveryError(f"community {a.community} has no Discord member_role_id to give or take")
        if a.member:
            await self._client.http.add_role(binding.guild_id, int(a.user_id), binding.member_role_id)
        else:
            await self._client.http.remove_role(binding.guild_id, int(a.user_id), binding.member_role_id)

    async def _set_verified(self, a: SetVerified) -> None:
        binding = self._bindings.get(a.community)
        if binding is None or binding.verified_role_id is None:
            return  # the role is optional; without it verified professionals are listed by /experts only
        if a.verified:
            await self._client.http.add_role(binding.guild_id, int(a.user_id), binding.verified_role_id,
                                             reason="verified by a moderator")
        else:
            await self._client.http.remove_role(binding.guild_id, int(a.user_id), binding.verified_role_id,
                                                reason="verification removed by a moderator")

    async def _label_post(self, a: LabelPost) -> None:
        return None  # a bot cannot label someone else's message; the verified role shows beside their name

    _handlers: dict[type, Callable[[DiscordAdapter, Any], Awaitable[str | None]]] = {
        Post: _post,
        DirectMessage: _direct_message,
        RemoveMessage: _remove_message,
        Timeout: _timeout,
        LiftTimeout: _lift_timeout,
        Kick: _kick,
        Ban: _ban,
        Unban: _unban,
        SetRoomMembership: _set_room_membership,
        SetVerified: _set_verified,
        LabelPost: _label_post,
    }
