"""The contract between Haven's core and each platform."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import ClassVar

from bot.actions import Action
from bot.events import Event

# Returns False when the platform should deliver the event's update again later (see App.handle).
Sink = Callable[[Event], Awaitable[bool | None]]
# Waits until every event the sink returned from is recorded as handled: an adapter that confirms
# updates to its platform (Telegram's getUpdates offset) calls it first.
Settle = Callable[[], Awaitable[None]]


async def nothing_to_settle() -> None:
    return None


class DeliveryError(Exception):
    """The platform did not take the action now (outage, rate limit, network); worth retrying."""


class PermanentDeliveryError(DeliveryError):
    """The platform will never take this action (chat gone, no rights); retrying cannot help."""


class Adapter(ABC):
    """Turns platform updates into core events for `sink`, and carries out the engine's actions.

    An adapter is composed with the core, never a subclass of it: the core does not know which
    platforms exist.
    """

    platform: ClassVar[str]

    @abstractmethod
    async def start(self, sink: Sink, settle: Settle = nothing_to_settle) -> None:
        """Connect and begin delivering events to `sink`; returns once the adapter is receiving."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop receiving, finish in-flight work, disconnect."""

    @abstractmethod
    async def perform(self, action: Action) -> str | None:
        """Carry out one action; return the platform id of a message it created, if any.

        Raises DeliveryError (retryable) or PermanentDeliveryError, and TypeError for an action type it
        does not know, so that nothing the engine asks for is silently dropped.
        """

    async def set_commands(self, member: list[tuple[str, str]], moderator: list[tuple[str, str]]) -> None:
        """Show the commands in the platform's own menu, where it has one (name, summary)."""
        return None
