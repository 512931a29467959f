"""Haven's commands, declared once for every platform."""

from __future__ import annotations

from bot.commands import buddies, campaigns, crisis, experts, member, moderator, privacy, reports, wellbeing
from bot.commands.registry import Registry


def build_registry() -> Registry:
    registry = Registry()
    for module in (member, wellbeing, buddies, privacy, reports, crisis, moderator, campaigns, experts):
        module.register(registry)
    return registry
