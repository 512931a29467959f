"""Haven on Telegram: a python-telegram-bot Application run inside Haven's own event loop."""

from __future__ import annotations

import asyncio
import html
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Chat,
    ChatMember,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    ExtBot,
    TypeHandler,
)

from adapters.base import Adapter, DeliveryError, PermanentDeliveryError, Settle, Sink, nothing_to_settle
from adapters.telegram.translate import BotIdentity, translate
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
from bot.config import Config, ConfigError
from bot.leader import TELEGRAM_POLLER_KEY, Leadership

log = logging.getLogger(__name__)

# Telegram shows a callback answer as an alert only up to this length.
CALLBACK_ANSWER_LIMIT = 200
CAPTION_LIMIT = 1024
DM_BUTTON_LABEL = "Open a private chat with me"
_ADMIN_STATUSES = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


class _PerChatProcessor(BaseUpdateProcessor):
    """Updates of one chat are handled in the order they arrived; different chats run side by side.

    An edit must never overtake the message it edits, and a moderator command must see the messages
    before it, but one busy group should not hold up every other community.
    """

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._users: Counter[int | None] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat else None
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class TelegramAdapter(Adapter):
    platform = "telegram"

    def __init__(self, config: Config, *, max_retries: int = 3) -> None:
        if not config.telegram_token:
            raise ConfigError("Telegram needs the bot token from BotFather in HAVEN_TELEGRAM_TOKEN")
        self._config = config
        self._settings = config.adapters.telegram
        self._max_retries = max_retries
        bindings = [c.telegram for c in config.communities.values() if c.telegram]
        self._moderator_chats = {b.moderator_chat_id for b in bindings if b.moderator_chat_id is not None}
        self._bound_chats = {cid for b in bindings for cid in b.chat_ids} | self._moderator_chats
        self._app: Application | None = None
        self._me: BotIdentity | None = None
        self._sink: Sink | None = None
        self._settle: Settle = nothing_to_settle
        self._admins: dict[int, tuple[float, frozenset[int]]] = {}
        self._open_queries: set[str] = set()  # button presses not yet answered
        self._unbound_seen: set[int] = set()
        self._poller: Leadership | None = None
        self._poll_task: asyncio.Task | None = None
        self._batch: asyncio.Future | None = None
        self._unsettled: set[int] = set()  # update ids another process is handling: not confirmed yet
        self._performers: dict[type[Action], Callable[[Any], Awaitable[str | None]]] = {
            Post: self._post,
            DirectMessage: self._direct_message,
            RemoveMessage: self._remove,
            Timeout: self._timeout,
            LiftTimeout: self._lift_timeout,
            Kick: self._kick,
            Ban: self._ban,
            Unban: self._unban,
            SetRoomMembership: self._set_room_membership,
            LabelPost: self._unlabelled,
            SetVerified: self._unlabelled,
        }

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def bot_username(self) -> str:
        if self._me is None:
            raise RuntimeError("the Telegram adapter is not started")
        return self._me.username

    @property
    def _bot(self) -> ExtBot:
        if self._app is None:
            raise RuntimeError("the Telegram adapter is not started")
        return self._app.bot

    async def start(self, sink: Sink, settle: Settle = nothing_to_settle) -> None:
        s = self._settings
        if s.mode == "webhook":
            if not self._config.telegram_webhook_secret:
                raise ConfigError(
                    "Telegram webhook mode needs HAVEN_TELEGRAM_WEBHOOK_SECRET, or anyone who finds the URL can feed Haven updates"
                )
            if not s.webhook_url:
                raise ConfigError("adapters.telegram.webhook_url: webhook mode needs the public HTTPS address Telegram posts to")
        self._sink = sink
        self._settle = settle
        app = (
            ApplicationBuilder()
            .token(self._config.telegram_token)
            .base_url(s.base_url)
            .base_file_url(s.base_file_url)
            .rate_limiter(
                AIORateLimiter(
                    overall_max_rate=s.overall_max_rate,
                    overall_time_period=1,
                    group_max_rate=s.group_max_rate,
                    group_time_period=60,
                    max_retries=self._max_retries,
                )
            )
            .concurrent_updates(_PerChatProcessor())
            .job_queue(None)  # Haven schedules with its own scheduler
            .build()
        )
        app.add_handler(TypeHandler(Update, self._on_update))
        app.add_error_handler(self._on_error)
        self._app = app
        try:
            await app.initialize()  # calls getMe
            me = app.bot.bot
            self._me = BotIdentity(me.id, me.username, bool(me.can_read_all_group_messages))
            await app.start()
            if s.mode == "polling":
                # getUpdates by one process only: several would each get a share of the updates
                # and Telegram refuses concurrent calls. The others wait to take over.
                self._poller = Leadership(self._config.storage.url, self._polling_changed,
                                          key=TELEGRAM_POLLER_KEY, role="Telegram poller")
                await self._poller.start()
            else:
                await app.updater.start_webhook(
                    listen=s.webhook_listen,
                    port=s.webhook_port,
                    url_path=s.webhook_path,
                    webhook_url=s.webhook_url,
                    secret_token=self._config.telegram_webhook_secret,
                    allowed_updates=Update.ALL_TYPES,
                    bootstrap_retries=3,
                )
        except BaseException:
            await self.stop()
            raise
        log.info("Telegram: receiving updates as @%s by %s", self._me.username, s.mode)
        await self._check_screening()

    async def stop(self) -> None:
        app = self._app
        if app is None:
            return
        # Receiving stops first and the updates in hand are finished (they may still call Telegram);
        # what was fetched but not confirmed comes back to the next poller, whose update claims skip
        # what was handled here, so nothing is lost or answered twice.
        try:
            if self._poller is not None:
                await self._poller.stop()
                self._poller = None
            await self._stop_polling()
            if app.updater and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
        finally:
            await app.shutdown()
            self._app = None

    # -- polling --------------------------------------------------------------------------------

    def _polling_changed(self, polling: bool) -> None:
        if polling:
            self._poll_task = asyncio.create_task(self._poll(), name="haven-telegram-poll")
        elif self._poll_task is not None:
            self._poll_task.cancel()

    async def _stop_polling(self) -> None:
        task, self._poll_task = self._poll_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        batch, self._batch = self._batch, None
        if batch is None:
            return
        offset = await batch  # finish what was fetched, then confirm it so the next poller skips it
        try:
            await self._bot.get_updates(offset=offset, timeout=0)
        except TelegramError as e:
            log.warning("Telegram: could not confirm the last updates (%s); the next poller skips them "
                        "by their claims", e.__class__.__name__)

    async def _poll(self) -> None:
        """getUpdates, handle the batch, and only then confirm it with the next call's offset.

        PTB's own updater confirms a batch as soon as it is queued, so a process killed with updates
        queued would lose them. Here an update is confirmed once it was handled: one killed mid-batch
        leaves the batch to the next poller, whose update claims skip what was already handled.
        """
        offset: int | None = None
        while True:
            try:
                updates = await self._bot.get_updates(offset=offset, timeout=self._settings.poll_timeout,
                                                      allowed_updates=Update.ALL_TYPES)
            except TelegramError as e:
                log.warning("Telegram: getUpdates failed (%s); trying again", e.__class__.__name__)
                await asyncio.sleep(1)
                continue
            if not updates:
                continue
            # Shielded: losing the poller role or stopping must not cut a handled update in half.
            self._batch = asyncio.ensure_future(self._handle_batch(updates))
            offset = await asyncio.shield(self._batch)
            self._batch = None
            if offset <= updates[-1].update_id:
                await asyncio.sleep(1)  # another process is on some of them; ask again shortly

    async def _handle_batch(self, updates: list[Update]) -> int:
        """Handles a batch (one chat's updates in order) and returns the offset that confirms it."""
        app = self._app
        assert app is not None
        self._unsettled.clear()
        await asyncio.gather(*(app.update_processor.process_update(u, app.process_update(u)) for u in updates))
        # The core writes handled marks in the background: wait for them, so that every update
        # Telegram forgets is recorded as handled in the database, never only as a lapsing claim.
        await self._settle()
        if self._unsettled:
            # Claimed by another process that has not finished: left unconfirmed, so they come back
            # and are handled here if that process died (its claims then lapse).
            return min(self._unsettled)
        return updates[-1].update_id + 1

    # -- updates --------------------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert self._me is not None and self._sink is not None
        chat = update.effective_chat
        if chat is not None and (update.chat_member or update.my_chat_member):
            self._admins.pop(chat.id, None)  # someone's rights changed; ask again
        if chat is not None and chat.type != Chat.PRIVATE and chat.id not in self._bound_chats | self._unbound_seen:
            # Telegram shows chat ids nowhere in its apps; this line is how an operator finds them.
            self._unbound_seen.add(chat.id)
            log.warning("Telegram: I am in %r (chat id %s), which no community is bound to", chat.title, chat.id)
        admin_ids = await self._admin_ids(chat) if chat is not None else frozenset()
        events = translate(update, self._me, received_at=datetime.now(UTC), admin_ids=admin_ids)
        query = update.callback_query
        if query is not None:
            self._open_queries.add(query.id)
        try:
            for event in events:
                try:
                    if await self._sink(event) is False:
                        self._unsettled.add(update.update_id)
                except Exception:
                    log.exception("Telegram: the core failed on update %s; carrying on", update.update_id)
        finally:
            if query is not None and query.id in self._open_queries:
                # Telegram keeps the button spinning until the press is answered.
                self._open_queries.discard(query.id)
                try:
                    await query.answer()
                except TelegramError as e:
                    log.warning("Telegram: could not answer button press %s: %s", query.id, e)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The update's id and kind only: its repr holds the member's message and name.
        if isinstance(update, Update):
            kind = next((k for k, v in update.to_dict().items() if k != "update_id" and v), "unknown")
            log.error("Telegram: error while handling update %s (%s)", update.update_id, kind,
                      exc_info=context.error)
        else:
            log.error("Telegram: error outside an update (%s)", type(update).__name__, exc_info=context.error)

    async def _admin_ids(self, chat: Chat) -> frozenset[int]:
        """Administrators of a bound group, cached for admin_cache_seconds; empty for other chats."""
        if chat.type not in (Chat.GROUP, Chat.SUPERGROUP) or chat.id not in self._bound_chats:
            return frozenset()
        now = asyncio.get_running_loop().time()
        cached = self._admins.get(chat.id)
        if cached is not None and now - cached[0] < self._settings.admin_cache_seconds:
            return cached[1]
        try:
            admins = await self._bot.get_chat_administrators(chat.id)
        except TelegramError as e:
            log.warning("Telegram: cannot list administrators of %s (%s); using what I knew", chat.id, e)
            return cached[1] if cached else frozenset()
        ids = frozenset(a.user.id for a in admins)
        self._admins[chat.id] = (now, ids)
        return ids

    async def _check_screening(self) -> None:
        """In privacy mode a bot sees only commands and replies unless it administers the group."""
        assert self._me is not None
        if self._me.can_read_all_group_messages:
            return
        for cid, community in self._config.communities.items():
            binding = community.telegram
            if binding is None:
                continue
            blind = [chat_id for chat_id in binding.chat_ids if not await self._is_admin_of(chat_id)]
            if not blind:
                continue
            chats = ", ".join(str(c) for c in blind)
            log.warning(
                "SCREENING IS PARTIAL in community %s: Telegram privacy mode is on and Haven is not an administrator "
                "of %s, so it sees only commands and replies there. Make Haven an administrator, or turn privacy "
                "mode off with @BotFather (/setprivacy) and add it again.",
                cid,
                chats,
            )
            if binding.moderator_chat_id is None:
                continue
            text = (
                f"Screening is partial in {chats}: Telegram privacy mode is on and I am not an administrator there, "
                "so I only see commands and replies to me. Crisis messages and personal details can go unnoticed. "
                "Please make me an administrator, or turn privacy mode off with @BotFather (/setprivacy) and add me again."
            )
            try:
                await self._bot.send_message(binding.moderator_chat_id, text)
            except TelegramError as e:
                log.warning("Telegram: could not warn moderators of %s in %s: %s", cid, binding.moderator_chat_id, e)

    async def _is_admin_of(self, chat_id: int) -> bool:
        assert self._me is not None
        try:
            member = await self._bot.get_chat_member(chat_id, self._me.id)
        except TelegramError as e:
            log.warning("Telegram: cannot check my rights in %s: %s", chat_id, e)
            return False
        return member.status in _ADMIN_STATUSES

    async def set_commands(self, member: list[tuple[str, str]], moderator: list[tuple[str, str]]) -> None:
        """Member commands for everyone; administrators and the moderator chats also see moderator ones.

        Telegram shows the narrowest matching scope only, so the moderator list repeats the member one.
        """
        everyone = [BotCommand(name, description) for name, description in member]
        known = {c.command for c in everyone}
        mods = everyone + [BotCommand(n, d) for n, d in moderator if n not in known]
        with _delivery_errors("setMyCommands"):
            await self._bot.set_my_commands(everyone, scope=BotCommandScopeDefault())
            await self._bot.set_my_commands(mods, scope=BotCommandScopeAllChatAdministrators())
            for chat_id in sorted(self._moderator_chats):
                await self._bot.set_my_commands(mods, scope=BotCommandScopeChat(chat_id))

    # -- actions --------------------------------------------------------------------------------

    async def perform(self, action: Action) -> str | None:
        performer = self._performers.get(type(action))
        if performer is None:
            raise TypeError(f"the Telegram adapter cannot perform {type(action).__name__}")
        with _delivery_errors(type(action).__name__):
            return await performer(action)

    def _url(self, url: str) -> str:
        if url.startswith("deeplink:"):
            return f"https://t.me/{self.bot_username}?start={url.removeprefix('deeplink:')}"
        return url

    def _keyboard(self, buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
        if not buttons:
            return None
        rows = []
        for b in buttons:
            if b.url is not None:
                rows.append([InlineKeyboardButton(b.label, url=self._url(b.url))])
            elif b.payload is not None:
                rows.append([InlineKeyboardButton(b.label, callback_data=b.payload)])
            else:
                raise ValueError(f"button {b.label!r} has neither a payload nor a URL")
        return InlineKeyboardMarkup(rows)

    async def _send(
        self, chat_id: str | int, text: str, *, spoiler: str | None = None, buttons: tuple[Button, ...] = (), reply_to: str | None = None
    ) -> str:
        parse_mode = None
        if spoiler:
            # HTML only when needed, so that ordinary text never has to survive escaping rules.
            before, found, after = text.partition(spoiler)
            if found:
                text = f"{html.escape(before)}<tg-spoiler>{html.escape(spoiler)}</tg-spoiler>{html.escape(after)}"
            else:
                text = f"{html.escape(text)}\n\n<tg-spoiler>{html.escape(spoiler)}</tg-spoiler>"
            parse_mode = ParseMode.HTML
        reply = ReplyParameters(int(reply_to), allow_sending_without_reply=True) if reply_to else None
        message = await self._bot.send_message(
            int(chat_id), text, parse_mode=parse_mode, reply_markup=self._keyboard(buttons), reply_parameters=reply
        )
        return str(message.message_id)

    async def _post(self, a: Post) -> str | None:
        if a.ephemeral and a.interaction_id in self._open_queries and len(a.text) <= CALLBACK_ANSWER_LIMIT:
            # Telegram's only private reply inside a group is the alert answering a button press.
            self._open_queries.discard(a.interaction_id)
            await self._bot.answer_callback_query(a.interaction_id, text=a.text, show_alert=True)
            return None
        return await self._send(a.chat_id, a.text, spoiler=a.spoiler, buttons=a.buttons, reply_to=a.reply_to)

    async def _direct_message(self, a: DirectMessage) -> str | None:
        try:
            if a.attachment is None:
                return await self._send(a.user_id, a.text, buttons=a.buttons)
            filename, content = a.attachment
            keyboard = self._keyboard(a.buttons)
            if len(a.text) > CAPTION_LIMIT:
                await self._send(a.user_id, a.text)
                message = await self._bot.send_document(int(a.user_id), content, filename=filename, reply_markup=keyboard)
            else:
                message = await self._bot.send_document(
                    int(a.user_id), content, filename=filename, caption=a.text or None, reply_markup=keyboard
                )
            return str(message.message_id)
        except Forbidden as e:
            # Never started the bot, or blocked it: Telegram lets nobody open that conversation but them.
            if a.fallback_chat_id is None or not a.fallback_text:
                raise PermanentDeliveryError(f"Telegram user {a.user_id} cannot be messaged privately: {e}") from e
            log.info("Telegram: private message to %s refused (%s); posting the fallback", a.user_id, e)
            return await self._send(
                a.fallback_chat_id,
                a.fallback_text,
                buttons=(Button(DM_BUTTON_LABEL, url="deeplink:help"),),
                reply_to=a.fallback_reply_to,
            )

    async def _remove(self, a: RemoveMessage) -> None:
        try:
            await self._bot.delete_message(int(a.chat_id), int(a.message_id))
        except BadRequest as e:
            if "not found" not in str(e).lower():
                raise
            log.info("Telegram: message %s in %s was already gone", a.message_id, a.chat_id)

    async def _timeout(self, a: Timeout) -> None:
        await self._bot.restrict_chat_member(
            int(a.chat_id), int(a.user_id), ChatPermissions.no_permissions(), until_date=a.until,
            use_independent_chat_permissions=True,
        )  # fmt: skip

    async def _lift_timeout(self, a: LiftTimeout) -> None:
        # All True lifts the restriction; the group's own defaults still apply on top.
        await self._bot.restrict_chat_member(
            int(a.chat_id), int(a.user_id), ChatPermissions.all_permissions(), use_independent_chat_permissions=True
        )

    async def _kick(self, a: Kick) -> None:
        # Telegram has no kick: a ban lifted at once removes the member but lets them come back.
        await self._bot.ban_chat_member(int(a.chat_id), int(a.user_id))
        await self._bot.unban_chat_member(int(a.chat_id), int(a.user_id), only_if_banned=True)

    async def _ban(self, a: Ban) -> None:
        await self._bot.ban_chat_member(int(a.chat_id), int(a.user_id), until_date=a.until)

    async def _unban(self, a: Unban) -> None:
        await self._bot.unban_chat_member(int(a.chat_id), int(a.user_id), only_if_banned=True)

    async def _set_room_membership(self, a: SetRoomMembership) -> None:
        return None  # membership of a Telegram community is membership of its group; nothing to grant

    async def _unlabelled(self, a: LabelPost | SetVerified) -> None:
        # A bot can give a custom title only to an administrator, and cannot mark anyone else's posts:
        # on Telegram verified professionals are listed by /experts alone.
        return None


@contextmanager
def _delivery_errors(what: str) -> Iterator[None]:
    """Telegram's errors in the terms of the adapter contract: retry later, or never."""
    try:
        yield
    except (BadRequest, Forbidden, InvalidToken, ChatMigrated) as e:
        # BadRequest is a NetworkError in PTB, so it is caught before the retryable ones.
        raise PermanentDeliveryError(f"Telegram refused {what}: {e}") from e
    except TelegramError as e:  # NetworkError, TimedOut, RetryAfter once the rate limiter gave up
        raise DeliveryError(f"Telegram did not take {what} now: {e}") from e
