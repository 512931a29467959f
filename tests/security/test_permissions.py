"""Who may do what: every moderator command, asked by a member and by a moderator, on the console,
Telegram and Discord; webhook updates without Telegram's secret; alert buttons pressed by members.

The commands come from the registry, so a moderator command added later is covered without a change
here. Each platform runs one App for its whole matrix; each command is asked by a member of its own,
so the per-minute command limit never gets in the way.
"""

from __future__ import annotations

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from bot.commands import build_registry
from bot.commands.registry import Role
from tests.adapters.discord.conftest import example_config_on
from tests.adapters.telegram.conftest import CRISIS, GROUP, MODERATOR, MODS, SECRET, free_port
from tests.fakes.discord_server import EPHEMERAL
from tests.fakes.telegram_server import FakeTelegramServer

MODERATOR_COMMANDS = [c.name for c in build_registry().all() if c.role == Role.MODERATOR]


def refusal(name: str) -> str:
    return f"/{name} is for moderators."


async def refused_in_audit(app: App, actor: str) -> list[str]:
    """The commands the audit log says were refused to `actor` for not being a moderator."""
    return sorted(e.action.removeprefix("command.") for e in await app.store.audit_entries(limit=1000)
                  if e.actor == actor and e.outcome == "refused" and e.reason == "not a moderator")


def test_the_matrix_covers_the_moderator_commands():
    assert len(MODERATOR_COMMANDS) >= 20 and {"ban", "mute", "ack", "filter", "audit"} <= set(MODERATOR_COMMANDS)


async def test_console(terminal):
    async with terminal() as t:
        for i, name in enumerate(MODERATOR_COMMANDS):
            member = await t.say(f"/{name}", speaker=f"member{i}")
            assert any(refusal(name) in line for line in member), (name, member)
            assert await refused_in_audit(t.app, f"console:member{i}") == [name]

            moderator = await t.say(f"/{name}", speaker="mira")
            assert moderator and not any("is for moderators" in line for line in moderator), (name, moderator)
        assert await refused_in_audit(t.app, "console:mira") == []


def telegram_texts(tg: FakeTelegramServer, chat: int) -> list[str]:
    return [m["text"] for m in tg.sent_messages(chat)]


async def test_telegram(tg, haven, sqlite_url):
    members = {name: 600 + i for i, name in enumerate(MODERATOR_COMMANDS)}
    for uid in members.values():
        tg.add_user(uid, f"Member{uid}")
    # Every answer goes to the group; Telegram's 20 a minute per group would make this take minutes.
    async with haven(sqlite_url, group_max_rate=6000) as app:
        for name in MODERATOR_COMMANDS:
            tg.push_message(GROUP, MODERATOR, f"/{name}")
        for name, uid in members.items():
            tg.push_message(GROUP, uid, f"/{name}")
        # One chat's updates are handled in order: once the last refusal is out, every command was handled.
        last = refusal(MODERATOR_COMMANDS[-1])
        await tg.wait_for(lambda: last in telegram_texts(tg, GROUP), timeout=20)
        for name, uid in members.items():
            assert await refused_in_audit(app, f"telegram:{uid}") == [name]
        assert await refused_in_audit(app, f"telegram:{MODERATOR}") == []
    said = telegram_texts(tg, GROUP)
    assert sorted(t for t in said if "is for moderators" in t) == sorted(map(refusal, MODERATOR_COMMANDS)), \
        "each member refused once, the moderator never"
    assert tg.calls_of("banChatMember") == [] and tg.calls_of("restrictChatMember") == []


async def test_discord(fake, sqlite_url, pipeline):
    async def response(interaction_id: int) -> dict:
        return await fake.wait_for(lambda: next(
            (r for r in fake.interaction_responses if r["interaction_id"] == str(interaction_id)), None))

    mira = fake.add_user("mira", roles=(fake.moderator_role_id,))
    config = example_config_on(fake, sqlite_url)
    async with App(config, [DiscordAdapter(config, guild_ready_timeout=0.05)], pipeline=pipeline,
                   run_scheduler=False) as app:
        for name in MODERATOR_COMMANDS:
            member = fake.add_user(f"member-{name}")
            answer = await response(await fake.push_slash(member, fake.general_id, name))
            assert answer["data"]["content"] == refusal(name)
            assert answer["data"]["flags"] & EPHEMERAL, "a refusal is shown to the member alone"
            assert await refused_in_audit(app, f"discord:{member}") == [name]

            answer = await response(await fake.push_slash(mira, fake.general_id, name))
            assert "is for moderators" not in (answer.get("data") or {}).get("content", ""), name
        assert await refused_in_audit(app, f"discord:{mira}") == []
    assert not any("is for moderators" in (f["data"].get("content") or "") for f in fake.followups)


async def test_telegram_webhook_without_the_secret_handles_nothing(tg, haven, sqlite_url):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    tg.start_private_chat(502)
    async with haven(sqlite_url, secret=SECRET, mode="webhook", webhook_port=port, webhook_url=url) as app:
        for secret in (None, "", "guess", SECRET.upper(), SECRET[:-1]):
            forged = tg.push_message(GROUP, 502, CRISIS)
            assert await tg.post_to_webhook(url, forged, secret) == 403, secret
        # push_* only builds updates here: in webhook mode nothing reaches Haven unless posted.
        alert = tg.push_message(MODS, MODERATOR, "an alert")
        forged_ack = tg.push_callback(502, alert, "ack:1", chat=MODS)
        assert await tg.post_to_webhook(url, forged_ack, "guess") == 403
        assert await app.store.find_member("telegram", "502") is None, "no forged update reached the core"
        assert await app.store.audit_entries() == []
        assert await app.store.incident(1) is None
    assert tg.calls_of("sendMessage") == [] and tg.calls_of("answerCallbackQuery") == []


async def test_telegram_alert_buttons_pressed_by_a_member_are_refused(tg, haven, sqlite_url):
    tg.start_private_chat(501)
    async with haven(sqlite_url) as app:
        tg.push_message(GROUP, 501, CRISIS)
        (alert,) = await tg.wait_for(lambda: tg.sent_messages(MODS))
        for payload in ("ack:1", "resolve:1"):
            query = tg.push_callback(502, alert["_result"]["message_id"], payload, chat=MODS)["callback_query"]["id"]
            answered = await tg.wait_for(lambda: tg.answered_callbacks.get(query))
            assert answered["text"] == "Only moderators can do that."
        assert (await app.store.incident(1)).status == "open"
        refused = [e.action for e in await app.store.audit_entries() if e.outcome == "refused"]
    assert sorted(refused) == ["incident.ack", "incident.resolve"]


async def test_discord_alert_buttons_pressed_by_a_member_are_refused(fake, sqlite_url, pipeline):
    alice, bob = fake.add_user("alice"), fake.add_user("bob")
    config = example_config_on(fake, sqlite_url)
    async with App(config, [DiscordAdapter(config, guild_ready_timeout=0.05)], pipeline=pipeline,
                   run_scheduler=False) as app:
        await fake.push_message(fake.general_id, alice, CRISIS)
        (alert,) = await fake.wait_for(lambda: fake.sent_messages(fake.mods_id))
        for payload in ("ack:1", "resolve:1"):
            pressed = str(await fake.push_button(bob, int(alert["id"]), payload))
            answer = await fake.wait_for(lambda: next(
                (r for r in fake.interaction_responses if r["interaction_id"] == pressed), None))
            assert answer["data"]["content"] == "Only moderators can do that."
        assert (await app.store.incident(1)).status == "open"
        refused = [e.action for e in await app.store.audit_entries() if e.outcome == "refused"]
    assert sorted(refused) == ["incident.ack", "incident.resolve"]
