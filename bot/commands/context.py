"""What a command handler sees and how it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.actions import Action, Button, DirectMessage, Post
from bot.commands.registry import Role, UsageError
from bot.events import Actor, Event

if TYPE_CHECKING:
    from bot.engine import Services
    from bot.storage.repositories import MemberInfo


PRIVATE_FALLBACK = "I couldn't message you privately. Open a private chat with me and try again there."


@dataclass
class CommandContext:
    services: Services
    event: Event
    community: str | None
    member: MemberInfo
    role: Role
    args: dict[str, Any]
    command: str = ""
    message_id: str | None = None
    mentions: tuple[Actor, ...] = ()
    reply_to_author: Actor | None = None
    reply_to_message: str | None = None
    actions: list[Action] = field(default_factory=list)

    @property
    def platform(self) -> str:
        return self.event.platform

    @property
    def actor(self) -> Actor:
        return self.event.actor

    @property
    def who(self) -> str:
        """The actor as the audit log names them: platform:id."""
        return f"{self.event.platform}:{self.event.actor.user_id}"

    @property
    def interaction_id(self) -> str | None:
        return getattr(self.event, "interaction_id", None)

    async def resolve_member(self, ref: str) -> MemberInfo:
        """`@bob`, a platform mention, or the author of the message being replied to."""
        for actor in self.mentions:
            if actor.user_id and (ref.lstrip("@") in (actor.name, actor.user_id) or ref.strip("<@!>") == actor.user_id):
                return await self.services.store.member(self.platform, actor.user_id, actor.name, self.services.clock())
        found = await self.services.store.find_member(self.platform, ref.strip("<@!>"))
        if found is None:
            raise UsageError(f"I don't know anyone called {ref[:40]} here")
        return found

    def reply(self, text: str, *, buttons: tuple[Button, ...] = (), ephemeral: bool = True) -> None:
        """Answer where the command was given (ephemerally for a slash command)."""
        self.actions.append(
            Post(
                platform=self.platform,
                chat_id=self.event.chat_id,
                text=text,
                reply_to=self.message_id,
                buttons=buttons,
                kind="reply",
                community=self.community,
                interaction_id=self.interaction_id,
                ephemeral=ephemeral and self.interaction_id is not None,
            )
        )

    def private(self, text: str, *, buttons: tuple[Button, ...] = (), attachment=None) -> None:
        """Answer privately; a slash command gets an ephemeral answer, which is private too."""
        if self.interaction_id is not None and attachment is None:
            self.reply(text, buttons=buttons, ephemeral=True)
            return
        if self.event.private:
            self.actions.append(
                DirectMessage(platform=self.platform, user_id=self.actor.user_id, text=text, buttons=buttons,
                              attachment=attachment)
            )
            return
        self.actions.append(
            DirectMessage(
                platform=self.platform,
                user_id=self.actor.user_id,
                text=text,
                buttons=buttons,
                attachment=attachment,
                fallback_chat_id=self.event.chat_id,
                fallback_text=PRIVATE_FALLBACK,
                fallback_reply_to=self.message_id,
            )
        )
        if self.interaction_id is not None:
            self.reply("I've sent you a private message.")
