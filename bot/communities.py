"""Which community a room belongs to, where its moderators are, and who moderates it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Community, Config

CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Room:
    platform: str
    chat_id: str


class Communities:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._by_room: dict[tuple[str, str], str] = {}
        for cid, c in config.communities.items():
            if c.console and c.console.enabled:
                self._by_room[(CONSOLE, cid)] = cid
            if c.telegram:
                for chat in c.telegram.chat_ids:
                    self._by_room[("telegram", str(chat))] = cid
                if c.telegram.moderator_chat_id is not None:
                    self._by_room[("telegram", str(c.telegram.moderator_chat_id))] = cid
            if c.discord:
                for ch in c.discord.channel_ids:
                    self._by_room[("discord", str(ch))] = cid
                if c.discord.category_id is not None:
                    self._by_room[("discord", str(c.discord.category_id))] = cid
                if c.discord.moderator_channel_id is not None:
                    self._by_room[("discord", str(c.discord.moderator_channel_id))] = cid

    def __contains__(self, cid: str) -> bool:
        return cid in self.config.communities

    def __getitem__(self, cid: str) -> Community:
        return self.config.communities[cid]

    def ids(self) -> list[str]:
        return list(self.config.communities)

    def find(self, platform: str, chat_id: str, parent_id: str | None = None) -> str | None:
        cid = self._by_room.get((platform, chat_id))
        if cid is None and parent_id is not None:
            cid = self._by_room.get((platform, parent_id))
        return cid

    def is_moderator_room(self, cid: str, platform: str, chat_id: str) -> bool:
        room = self.moderator_room(cid, platform)
        return room is not None and room.chat_id == chat_id

    def rooms(self, cid: str, platform: str) -> list[Room]:
        c = self[cid]
        if platform == CONSOLE:
            return [Room(CONSOLE, cid)] if c.console and c.console.enabled else []
        if platform == "telegram" and c.telegram:
            return [Room("telegram", str(x)) for x in c.telegram.chat_ids]
        if platform == "discord" and c.discord:
            return [Room("discord", str(x)) for x in c.discord.channel_ids]
        return []

    def moderator_room(self, cid: str, platform: str) -> Room | None:
        c = self[cid]
        if platform == CONSOLE and c.console and c.console.enabled:
            return Room(CONSOLE, f"mods:{cid}")
        if platform == "telegram" and c.telegram and c.telegram.moderator_chat_id is not None:
            return Room("telegram", str(c.telegram.moderator_chat_id))
        if platform == "discord" and c.discord and c.discord.moderator_channel_id is not None:
            return Room("discord", str(c.discord.moderator_channel_id))
        return None

    def fallback_room(self, cid: str, platform: str) -> Room | None:
        c = self[cid]
        if platform == "telegram" and c.telegram and c.telegram.fallback_chat_id is not None:
            return Room("telegram", str(c.telegram.fallback_chat_id))
        if platform == "discord" and c.discord and c.discord.fallback_channel_id is not None:
            return Room("discord", str(c.discord.fallback_channel_id))
        return None

    def alert_room(self, cid: str, platform: str) -> Room | None:
        """The moderators' room on the platform the event came from, else on any bound platform."""
        room = self.moderator_room(cid, platform)
        if room is not None:
            return room
        for other in (CONSOLE, "telegram", "discord"):
            room = self.moderator_room(cid, other)
            if room is not None:
                return room
        return None

    def is_configured_moderator(self, cid: str, platform: str, user_id: str) -> bool:
        return f"{platform}:{user_id}" in self[cid].moderators

    def is_moderator(self, cid: str, platform: str, user_id: str, platform_roles: frozenset[str]) -> bool:
        return (
            self.is_configured_moderator(cid, platform, user_id)
            or "admin" in platform_roles
            or "moderator" in platform_roles
        )
