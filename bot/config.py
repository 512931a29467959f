"""Haven's configuration: one TOML file, validated once, secrets only from the environment."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
MODERATOR_RE = re.compile(r"^(console|telegram|discord):[^\s:]+$")
COMMUNITY_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class ConfigError(Exception):
    """A configuration problem, worded for the person who wrote the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HavenSettings(_Strict):
    name: str = "Haven"
    # Days that message text (held posts, crisis excerpts) is kept before only counts remain.
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_logs: bool = False


class StorageSettings(_Strict):
    url: str = "sqlite+aiosqlite:///haven.sqlite3"

    @field_validator("url")
    @classmethod
    def _known_driver(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v


class CrisisSettings(_Strict):
    # The same member gets the same card at most once in this window unless severity rises.
    card_cooldown_hours: Annotated[float, Field(gt=0, le=168)] = 6
    ack_window_minutes: Annotated[float, Field(gt=0, le=1440)] = 10
    concern_per_reporter_per_day: Annotated[int, Field(ge=1, le=100)] = 3
    concern_per_target_per_day: Annotated[int, Field(ge=1, le=100)] = 2


class ConsoleSettings(_Strict):
    enabled: bool = True


class TelegramSettings(_Strict):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Literal["polling", "webhook"] = "polling"
    poll_timeout: Annotated[int, Field(ge=0, le=60)] = 30
    webhook_listen: str = "127.0.0.1"
    webhook_port: Annotated[int, Field(ge=1, le=65535)] = 8443
    webhook_path: str = "/telegram"
    webhook_url: str | None = None  # the public HTTPS address Telegram posts to
    admin_cache_seconds: Annotated[int, Field(ge=0)] = 300
    # Telegram's published limits: about 30 messages a second overall and 20 a minute per group.
    # Raise them only for a self-hosted Bot API server that allows more.
    overall_max_rate: Annotated[float, Field(gt=0)] = 30
    group_max_rate: Annotated[float, Field(gt=0)] = 20


class DiscordSettings(_Strict):
    api_base_url: str | None = None  # a Discord-compatible server; None means Discord itself
    gateway_url: str | None = None
    shard_count: Annotated[int, Field(ge=1)] | None = None
    shard_ids: tuple[int, ...] | None = None

    @model_validator(mode="after")
    def _shards(self) -> DiscordSettings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("shard_ids needs shard_count")
            bad = [s for s in self.shard_ids if not 0 <= s < self.shard_count]
            if bad:
                raise ValueError(f"shard_ids {bad} are outside 0..{self.shard_count - 1}")
        return self


class ObservabilitySettings(_Strict):
    # /metrics (Prometheus), /healthz and /readyz; off by default so a console run opens no port.
    enabled: bool = False
    listen: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 9464


class AdapterSettings(_Strict):
    console: ConsoleSettings = ConsoleSettings()
    telegram: TelegramSettings = TelegramSettings()
    discord: DiscordSettings = DiscordSettings()


class Resource(_Strict):
    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://\S+$")


class EscalationStep(_Strict):
    warnings: Annotated[int, Field(ge=1)]
    action: Literal["mute", "ban"]
    duration: str | None = None  # "24h"; no duration with "ban" means permanent


class ModerationSettings(_Strict):
    warn_window_days: Annotated[int, Field(ge=1, le=3650)] = 30
    escalation: tuple[EscalationStep, ...] = (
        EscalationStep(warnings=3, action="mute", duration="24h"),
        EscalationStep(warnings=5, action="ban"),
    )


class ConsoleBinding(_Strict):
    enabled: bool = True


class TelegramBinding(_Strict):
    chat_ids: tuple[int, ...] = ()
    moderator_chat_id: int | None = None
    fallback_chat_id: int | None = None


class DiscordBinding(_Strict):
    guild_id: int
    channel_ids: tuple[int, ...] = ()
    category_id: int | None = None
    moderator_channel_id: int | None = None
    fallback_channel_id: int | None = None
    moderator_role_id: int | None = None
    member_role_id: int | None = None
    # Given by /verify and taken by /unverify, so a verified professional's role shows beside their
    # name; without it they are listed by /experts only.
    verified_role_id: int | None = None
    # Discord permissions that make someone a moderator here, e.g. ["manage_messages"].
    moderator_permissions: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _verified_role_apart(self) -> DiscordBinding:
        if self.verified_role_id is not None and self.verified_role_id in (self.member_role_id,
                                                                            self.moderator_role_id):
            # /unverify takes the role away, and with it membership or moderation.
            raise ValueError("verified_role_id must be a role of its own, not the member or moderator role")
        return self


class AwarenessDay(_Strict):
    date: str = Field(pattern=r"^\d{2}-\d{2}$")  # MM-DD, every year
    time: str = Field(default="09:00", pattern=r"^\d{2}:\d{2}$")
    text: str = Field(min_length=1)


class Community(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    rules: tuple[str, ...] = ()
    locale: str = "en-GB"
    timezone: str = "UTC"
    resources: tuple[Resource, ...] = ()
    moderators: tuple[str, ...] = ()
    on_call: tuple[str, ...] = ()  # mentioned when an alert is not acknowledged in time
    public_crisis_reply: bool = True
    ack_window_minutes: Annotated[float, Field(gt=0, le=1440)] | None = None
    moderation: ModerationSettings = ModerationSettings()
    awareness_days: tuple[AwarenessDay, ...] = ()
    console: ConsoleBinding | None = None
    telegram: TelegramBinding | None = None
    discord: DiscordBinding | None = None

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        if not LOCALE_RE.match(v):
            raise ValueError("must look like en-GB or de")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @field_validator("moderators", "on_call")
    @classmethod
    def _people(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for who in v:
            if not MODERATOR_RE.match(who):
                raise ValueError(f"{who!r} must look like console:mira, telegram:12345 or discord:678")
        return v


class Config(_Strict):
    haven: HavenSettings = HavenSettings()
    storage: StorageSettings = StorageSettings()
    crisis: CrisisSettings = CrisisSettings()
    adapters: AdapterSettings = AdapterSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    communities: dict[str, Community]
    # Secrets never come from the file; load_config fills these from the environment.
    discord_token: str | None = Field(default=None, exclude=True)
    telegram_token: str | None = Field(default=None, exclude=True)
    telegram_webhook_secret: str | None = Field(default=None, exclude=True)

    @field_validator("communities")
    @classmethod
    def _ids(cls, v: dict[str, Community]) -> dict[str, Community]:
        if not v:
            raise ValueError("at least one community is needed")
        for cid in v:
            if not COMMUNITY_ID_RE.match(cid):
                raise ValueError(f"community id {cid!r} must be lower-case letters, digits and dashes")
        return v

    @model_validator(mode="after")
    def _bindings_unique(self) -> Config:
        seen: dict[tuple[str, str], str] = {}
        for cid, c in self.communities.items():
            rooms = []
            if c.telegram:
                rooms += [("telegram", str(x)) for x in c.telegram.chat_ids]
            if c.discord:
                rooms += [("discord", str(x)) for x in c.discord.channel_ids]
                if c.discord.category_id:
                    rooms.append(("discord", str(c.discord.category_id)))
            for room in rooms:
                if room in seen:
                    raise ValueError(f"{room[0]} room {room[1]} is bound to both {seen[room]} and {cid}")
                seen[room] = cid
        return self


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def format_validation_error(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = _where(e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(f"{loc}: unknown key (check the spelling against config.example.toml)")
        elif e["type"] == "missing":
            lines.append(f"{loc}: required key is missing")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            lines.append(f"{loc}: {msg}")
    return "\n".join(lines)


def parse_config(text: str, env: Mapping[str, str] | None = None, source: str = "config") -> Config:
    env = os.environ if env is None else env
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    if "storage" in raw and not isinstance(raw["storage"], dict):
        raise ConfigError(f"{source}: storage: must be a table")
    if env.get("HAVEN_DATABASE_URL"):
        raw.setdefault("storage", {})["url"] = env["HAVEN_DATABASE_URL"]
    for key in ("discord_token", "telegram_token", "telegram_webhook_secret"):
        if key in raw:
            raise ConfigError(f"{source}: {key}: secrets are read only from the environment (HAVEN_{key.upper()})")
    raw["discord_token"] = env.get("HAVEN_DISCORD_TOKEN") or None
    raw["telegram_token"] = env.get("HAVEN_TELEGRAM_TOKEN") or None
    raw["telegram_webhook_secret"] = env.get("HAVEN_TELEGRAM_WEBHOOK_SECRET") or None
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"{source}:\n{format_validation_error(e)}") from None


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file (copy config.example.toml to start)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot be read: {e}") from None
    return parse_config(text, env, source=str(p))
