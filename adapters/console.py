"""The embedded default: a terminal or a pipe is a room, every line Haven emits says where it went.

    [#t1d] alice: hello          a post accepted in the room (echoed once screening let it through)
    [#t1d] ana (verified: nurse): ...   with the label the core gave its author
    [dm @alice] ...              a private message
    [mods #t1d] ...              the moderators' channel
    [removed #t1d] / [held #t1d] a screened post

Buttons print as `[label]`; a line that is exactly `[label]` presses it. A line starting `dm: ` is a
private message to Haven.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import BinaryIO, ClassVar, TextIO

from adapters.base import Adapter, Settle, Sink, nothing_to_settle
from bot.actions import (
    Action,
    Ban,
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
from bot.events import Actor, ButtonPressed, MessageCreated

MAX_LINE = 4000  # Telegram takes 4,096 characters and Discord 2,000; longer lines are refused whole
SPEAKER_RE = re.compile(r"^@([A-Za-z0-9_.-]{1,32}):\s?(.*)$", re.S)
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def _clean(text: str) -> tuple[str, bool]:
    """Drop control and format characters a terminal would not show; say whether any were there."""
    kept = "".join(ch for ch in text if ch == "\t" or unicodedata.category(ch) not in ("Cc", "Cs"))
    return kept, kept != text


class ConsoleAdapter(Adapter):
    platform: ClassVar[str] = "console"

    def __init__(self, *, speaker: str, community: str, stdin: BinaryIO | None = None,
                 stdout: TextIO | None = None) -> None:
        if not NAME_RE.match(speaker):
            raise ValueError(f"--as {speaker!r}: use letters, digits, '_', '.' or '-' (at most 32)")
        self.speaker = speaker
        self.community = community
        self.stdin = stdin if stdin is not None else sys.stdin.buffer
        self.stdout = stdout if stdout is not None else sys.stdout
        self.sink: Sink | None = None
        self._buffer: list[str] | None = None
        self._removed: set[str] = set()
        self._labels: dict[str, str] = {}  # message id -> what the core asked to show beside its author
        self._pressable: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._run = uuid.uuid4().hex[:8]  # message ids stay unique across runs

    async def start(self, sink: Sink, settle: Settle = nothing_to_settle) -> None:
        self.sink = sink

    async def stop(self) -> None:
        self.stdout.flush()

    def emit(self, prefix: str, text: str) -> None:
        lines = [f"{prefix} {line}".rstrip() for line in (text.splitlines() or [""])]
        if self._buffer is not None:
            self._buffer.extend(lines)
        else:
            self.stdout.write("\n".join(lines) + "\n")

    async def run(self) -> None:
        """Read until end of input; one line, one message or command."""
        loop = asyncio.get_running_loop()
        while True:
            raw = await loop.run_in_executor(None, self.stdin.readline)
            if not raw:
                break
            await self.feed(raw)
        self.stdout.flush()

    async def feed(self, raw: bytes) -> None:
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            self.emit("[haven]", "That line was not valid UTF-8, so nothing was posted. Please type it again.")
            return
        line, had_controls = _clean(line)
        if not line.strip():
            return
        speaker = self.speaker
        m = SPEAKER_RE.match(line)
        if m:
            speaker, line = m.group(1), m.group(2)
            if not line.strip():
                return
        if len(line) > MAX_LINE:
            self.emit("[haven]", f"That line is too long ({len(line)} characters; the limit is {MAX_LINE}), "
                                 "so nothing was posted. Please split it up.")
            return
        if had_controls:
            self.emit("[haven]", "I removed control characters from that line.")
        payload = self._pressable.get(line.strip())
        if payload is not None:
            await self._press(speaker, payload)
            return
        private = line.startswith("dm: ")
        if private:
            line = line[4:]
        message_id = f"{self._run}-{next(self._ids)}"
        event = MessageCreated(
            platform=self.platform, chat_id=f"dm:{speaker}" if private else self.community,
            actor=Actor(self.platform, speaker, speaker), at=datetime.now(UTC), message_id=message_id, text=line,
            private=private,
        )
        self._buffer = []
        try:
            await self.sink(event)
        finally:
            buffered, self._buffer = self._buffer, None
        if not private and not line.startswith("/") and message_id not in self._removed:
            label = self._labels.get(message_id)
            self.emit(f"[#{self.community}]", f"{speaker}{f' ({label})' if label else ''}: {line}")
        self._removed.discard(message_id)
        self._labels.pop(message_id, None)
        if buffered:
            self.stdout.write("\n".join(buffered) + "\n")
        self.stdout.flush()

    async def _press(self, speaker: str, payload: str) -> None:
        event = ButtonPressed(platform=self.platform, chat_id=self.community,
                              actor=Actor(self.platform, speaker, speaker), at=datetime.now(UTC), payload=payload)
        self._buffer = []
        try:
            await self.sink(event)
        finally:
            buffered, self._buffer = self._buffer, None
        if buffered:
            self.stdout.write("\n".join(buffered) + "\n")
        self.stdout.flush()

    def _buttons(self, buttons) -> str:
        """Buttons print as `[label]`; typing the same `[label]` presses the latest one so named."""
        for b in buttons:
            payload = b.payload or ("help" if b.url == "deeplink:help" else None)
            if payload is not None:
                self._pressable[f"[{b.label}]"] = payload
        if not buttons:
            return ""
        return "\n" + "  ".join(f"[{b.label}]" for b in buttons)

    async def perform(self, action: Action) -> str | None:
        match action:
            case Post(chat_id=chat) if chat.startswith("mods:"):
                text = action.text
                if action.spoiler:
                    text = text.replace(action.spoiler, f"||{action.spoiler}||", 1)
                self.emit(f"[mods #{chat.removeprefix('mods:')}]", text + self._buttons(action.buttons))
            case Post():
                self.emit(f"[#{action.chat_id}]", "Haven: " + action.text + self._buttons(action.buttons))
            case DirectMessage():
                text = action.text
                if action.attachment is not None:
                    name, content = action.attachment
                    try:
                        text += f"\n[attachment {name}]\n{content.decode('utf-8')}"
                    except UnicodeDecodeError:  # an image: a terminal cannot show it, so say it is there
                        text += f"\n[attachment {name}, {len(content)} bytes]"
                self.emit(f"[dm @{action.user_id}]", text + self._buttons(action.buttons))
            case RemoveMessage():
                self._removed.add(action.message_id)
                label = "held" if action.held else "removed"
                self.emit(f"[{label} #{action.chat_id}]", f"{action.author or 'a message'} ({action.reason})")
            case Timeout():
                self.emit(f"[#{action.chat_id}]", f"{action.user_id} is muted until {action.until:%Y-%m-%d %H:%M} UTC")
            case LiftTimeout():
                self.emit(f"[#{action.chat_id}]", f"{action.user_id} can post again")
            case Kick():
                self.emit(f"[#{action.chat_id}]", f"{action.user_id} was removed from the room")
            case Ban():
                until = f" until {action.until:%Y-%m-%d %H:%M} UTC" if action.until else ""
                self.emit(f"[#{action.chat_id}]", f"{action.user_id} is banned{until}")
            case Unban():
                self.emit(f"[#{action.chat_id}]", f"{action.user_id} is no longer banned")
            case SetRoomMembership() | SetVerified():
                pass  # the console has no roles; membership and verification live in Haven's database
            case LabelPost():
                self._labels[action.message_id] = action.label
            case _:
                raise TypeError(f"the console cannot carry out {type(action).__name__}")
        return None
