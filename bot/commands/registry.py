"""Commands are declared once, with the role they need and typed arguments; every adapter renders them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.commands.context import CommandContext

MAX_ARGS_LENGTH = 2000
# The largest id the databases store (a 32-bit integer on PostgreSQL); a longer number typed is unknown,
# and passing it on would make the query fail instead of saying so.
MAX_ID = 2**31 - 1


class Role(IntEnum):
    MEMBER = 0
    MODERATOR = 1


class UsageError(Exception):
    """The arguments do not fit; the message says what was wrong, the engine adds the usage line."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str = "word"  # word, int, member, duration, text (the rest of the line)
    optional: bool = False
    choices: tuple[str, ...] = ()

    def render(self) -> str:
        inner = "|".join(self.choices) if self.choices else self.name
        if self.kind == "member":
            inner = f"@{self.name}"
        return f"[{inner}]" if self.optional else f"<{inner}>"


Handler = Callable[["CommandContext"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    summary: str
    role: Role
    params: tuple[Param, ...]
    handler: Handler = field(compare=False)
    # Where the command is useful: in a community room, in a private chat, or both.
    needs_community: bool = True

    @property
    def usage(self) -> str:
        return " ".join([f"/{self.name}", *(p.render() for p in self.params)])


class Registry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def command(
        self,
        name: str,
        summary: str,
        *params: Param,
        role: Role = Role.MEMBER,
        needs_community: bool = True,
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if name in self._commands:
                raise ValueError(f"command /{name} is declared twice")
            self._commands[name] = Command(name, summary, role, params, fn, needs_community)
            return fn

        return register

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def all(self) -> list[Command]:
        return list(self._commands.values())

    def for_role(self, role: Role) -> list[Command]:
        return [c for c in self._commands.values() if c.role <= role]


_DURATION = re.compile(r"^(\d{1,4})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """`30m`, `2h`, `1d`, `1w` -> seconds. Anything else is a usage error, never a guess."""
    m = _DURATION.match(text.strip().lower())
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"'{text}' is not a duration; use a number and a unit, like 30m, 2h, 1d or 1w")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds > 366 * 86400:
        raise UsageError("durations longer than a year are not supported")
    return seconds


def split_args(params: tuple[Param, ...], raw: str) -> dict[str, Any]:
    """Tokenise by white space; a `text` parameter takes the rest of the line."""
    raw = raw.strip()
    if len(raw) > MAX_ARGS_LENGTH:
        raise UsageError(f"that is too long for a command (more than {MAX_ARGS_LENGTH} characters)")
    values: dict[str, Any] = {}
    rest = raw
    for i, p in enumerate(params):
        if p.kind == "text":
            if not rest and not p.optional:
                raise UsageError(f"{p.name} is missing")
            values[p.name] = rest or None
            rest = ""
            break
        token, _, rest = rest.partition(" ")
        rest = rest.strip()
        if not token:
            if p.optional:
                values[p.name] = None
                continue
            raise UsageError(f"{p.name} is missing")
        if p.optional and p.kind == "duration" and not _DURATION.match(token.lower()):
            # An optional duration that is not one belongs to the next parameter (`/ban @x spam`).
            values[p.name] = None
            rest = f"{token} {rest}".strip()
            continue
        if p.choices and token.lower() not in p.choices:
            raise UsageError(f"{p.name} must be one of: {', '.join(p.choices)}")
        if p.kind == "int":
            try:
                values[p.name] = int(token.lstrip("#"))
            except ValueError:
                raise UsageError(f"{p.name} must be a number, not '{token}'") from None
            if not 0 <= values[p.name] <= MAX_ID:
                raise UsageError(f"there is no {p.name} #{token.lstrip('#')}")
        elif p.kind == "duration":
            values[p.name] = parse_duration(token)
        elif p.kind == "member":
            values[p.name] = token
        else:
            values[p.name] = token.lower() if p.choices else token
    if rest:
        raise UsageError(f"unexpected '{rest[:40]}'")
    return values
