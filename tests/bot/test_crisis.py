"""Crisis care through the console, as a member and a moderator would see it."""

import pytest

from adapters.base import DeliveryError
from adapters.console import ConsoleAdapter

CASES = [
    ("en-GB", "I don't want to live anymore", "116 123"),
    ("en-US", "I don't want to live anymore", "988"),
    ("de-DE", "ich möchte einfach nur sterben", "0800 111 0 111"),
    ("fr-FR", "je vais me tuer ce soir", "3114"),
    ("es-ES", "no quiero seguir viviendo", "024"),
]


def dm(out, who="alice"):
    return "\n".join(line for line in out if line.startswith(f"[dm @{who}]"))


def mods(out, cid="mind"):
    return "\n".join(line for line in out if line.startswith(f"[mods #{cid}]"))


@pytest.mark.parametrize(("locale", "text", "number"), CASES, ids=[c[0] for c in CASES])
async def test_a_cry_for_help_gets_local_lines_privately_and_an_alert(console, locale, text, number):
    out = await console.run([text], community="mind", locale=locale)
    assert number in dm(out), out
    assert "Support needed (urgent" in mods(out) or "Support needed (high" in mods(out)
    assert "alice may need help" in mods(out)
    assert f"||{text}||" in mods(out), "the excerpt is hidden behind a spoiler"
    assert f"[#mind] alice: {text}" in out, "the post is never removed"
    assert not any(line.startswith(("[removed", "[held")) for line in out)


async def test_the_card_speaks_the_members_language(console):
    out = await console.run(["ich möchte einfach nur sterben"], community="mind", locale="de-DE")
    assert "TelefonSeelsorge" in dm(out)
    assert "I'm really glad" not in dm(out)


async def test_a_medical_emergency_puts_the_emergency_number_first(console):
    out = await console.run(["sudden chest pain spreading to my jaw and I'm sweating"], community="t1d",
                            locale="en-GB")
    reply = [line for line in out if line.startswith("[#t1d] Haven:")]
    assert reply and reply[0] == "[#t1d] Haven: Please call 999 now."
    assert "Support needed" in mods(out, "t1d")


async def test_an_idiom_gets_nothing(console):
    out = await console.run(["these hospital forms are killing me"], community="mind", locale="en-GB")
    assert out == ["[#mind] alice: these hospital forms are killing me"]


async def test_the_same_card_is_not_sent_twice_in_the_cooldown(console, clock):
    out = await console.run(["I want to die", "I really want to die"], community="mind", locale="en-GB")
    assert dm(out).count("I'm really glad you told us") == 1
    assert mods(out).count("Support needed") == 1
    clock.advance(hours=7)
    out = await console.run(["I want to die"], community="mind", locale="en-GB")
    assert dm(out).count("I'm really glad you told us") == 1


async def test_an_unacknowledged_alert_escalates_then_ack_stops_it(console, clock):
    async def escalate(app):
        clock.advance(minutes=6)  # mind answers within 5 minutes
        await app.run_due()

    out = await console.run(["I want to end my life"], community="mind", locale="en-GB", after=escalate)
    assert "@mira Nobody has taken incident 1" in mods(out)

    async def later(app):
        clock.advance(minutes=6)
        await app.run_due()

    out = await console.run(["/ack 1"], speaker="mira", community="mind", after=later)
    assert "[#mind] Haven: Incident 1 is yours, mira. Thank you." in out
    assert "Nobody has taken" not in "\n".join(out)
    out = await console.run(["/ack 1", "/resolve 1 talked it through, safe with family"], speaker="mira",
                            community="mind")
    assert "[#mind] Haven: Incident 1 was already taken by console:mira." in out
    assert "[#mind] Haven: Incident 1 is resolved: talked it through, safe with family" in out


async def test_escalation_timers_survive_a_restart(console, clock):
    await console.run(["I want to kill myself"], community="mind", locale="en-GB")
    clock.advance(minutes=6)
    # A new process: nothing in memory, the incident is in the database.
    out = await console.run([], community="mind", after=lambda app: app.run_due())
    assert "Nobody has taken incident 1" in mods(out)


class FlakyConsole(ConsoleAdapter):
    """A platform that is down: every private message fails until it comes back."""

    down = True

    async def perform(self, action):
        if self.down and type(action).__name__ == "DirectMessage":
            raise DeliveryError("platform unavailable")
        return await super().perform(action)


async def test_cards_survive_a_failing_platform_and_a_restart(db_url, clock, pipeline):
    import io

    from bot.app import App
    from tests.conftest import make_config

    config = make_config(db_url)
    out = io.StringIO()
    flaky = FlakyConsole(speaker="alice", community="mind", stdin=io.BytesIO(b"I want to die\n"), stdout=out)
    async with App(config, [flaky], clock=clock, pipeline=pipeline, run_scheduler=False) as app:
        await flaky.run()
        clock.advance(seconds=5)
        await app.run_due()  # still down: retried, not lost
        assert await app.store.outbox_pending_count() == 1
    assert "[dm @alice]" not in out.getvalue()
    assert "[mods #mind]" in out.getvalue(), "the moderators were told even though the card is waiting"

    clock.advance(minutes=1)
    out2 = io.StringIO()
    fixed = FlakyConsole(speaker="alice", community="mind", stdin=io.BytesIO(b""), stdout=out2)
    fixed.down = False
    async with App(config, [fixed], clock=clock, pipeline=pipeline, run_scheduler=False) as app:
        await app.run_due()
        assert await app.store.outbox_pending_count() == 0
    assert out2.getvalue().count("I'm really glad you told us") == 1


async def test_a_member_cannot_acknowledge(console):
    await console.run(["I want to die"], community="mind", locale="en-GB")
    out = await console.run(["/ack 1"], speaker="bob", community="mind")
    assert "[#mind] Haven: /ack is for moderators." in out


async def test_concern_reaches_the_person_and_never_names_the_reporter(console):
    await console.run(["@bob: hi"], community="mind")
    out = await console.run(["/concern @bob"], community="mind")
    assert "someone here cares about you" in dm(out, "bob")
    assert "alice" not in dm(out, "bob")
    assert "they won't know it was you" in dm(out, "alice")
    out = await console.run(["/concern @bob", "/concern @bob"], community="mind", speaker="carol")
    assert dm(out, "bob").count("someone here cares about you") == 1
    assert "already asked me to check on them today" in dm(out, "carol")


def press(payload, who="alice", chat="mind"):
    from datetime import UTC, datetime

    from bot.events import Actor, ButtonPressed

    return ButtonPressed(platform="console", chat_id=chat, actor=Actor("console", who, who),
                         at=datetime.now(UTC), payload=payload)


async def test_check_on_me_tomorrow_sends_one_follow_up_a_day_later(console, clock):
    async def tomorrow(app):
        await app.handle(press("tomorrow:1"))
        clock.advance(hours=23)
        await app.run_due()
        assert "I said I'd check on you today" not in console_out(app)
        clock.advance(hours=2)
        await app.run_due()
        await app.run_due()

    def console_out(app):
        return app.adapters[0].stdout.getvalue()

    out = await console.run(["I want to die"], community="mind", locale="en-GB", after=tomorrow)
    text = "\n".join(out)
    assert "I'll check on you tomorrow. Take care of yourself until then." in text
    assert text.count("I said I'd check on you today") == 1
    assert "116 123" in text.split("I said I'd check on you today")[1]


async def test_not_what_i_meant_is_recorded_and_only_for_the_author(console):
    async def buttons(app):
        await app.handle(press("notme:1", who="bob"))
        await app.handle(press("notme:1"))
        inc = await app.store.incident(1)
        assert inc.not_me is True

    out = await console.run(["I want to die"], community="mind", locale="en-GB", after=buttons)
    assert "[#mind] Haven: That button is for someone else." in out
    assert "[#mind] Haven: Thanks for letting me know." in "\n".join(out)


async def test_retention_purges_the_excerpt_and_keeps_the_incident(console, clock):
    async def later(app):
        clock.advance(days=31)
        await app.run_due()
        inc = await app.store.incident(1)
        assert inc.excerpt is None
        assert inc.category == "crisis.self" and inc.message_count == 1

    await console.run(["I want to die"], community="mind", locale="en-GB", after=later)


async def test_a_cry_for_help_gets_its_card_even_when_the_database_is_gone(sqlite_url, clock, pipeline):
    import io

    from bot.app import App
    from tests.conftest import make_config

    out = io.StringIO()
    console = ConsoleAdapter(speaker="alice", community="mind", stdin=io.BytesIO(b"I want to die\n"), stdout=out)
    async with App(make_config(sqlite_url), [console], clock=clock, pipeline=pipeline, run_scheduler=False) as app:
        await app.db.engine.dispose()
        app.store.sessions.configure(bind=None)  # every query now fails, as with a lost database
        await console.run()
    text = out.getvalue()
    assert "[dm @alice] I'm really glad you told us" in text
    assert "116 123" in text


async def test_a_private_reply_reaches_the_moderators_and_their_answer_comes_back(console):
    await console.run(["I want to die"], community="mind", locale="en-GB")
    out = await console.run(["dm: thank you. it's really bad tonight"], community="mind")
    assert "[mods #mind] Incident 1: alice wrote privately: ||thank you. it's really bad tonight||" in out
    assert any(line.startswith("[dm @alice] Thank you for writing. I've passed this to the moderators") and
               "call 999" in line for line in out)
    out = await console.run(["/reply 1 I'm here. Do you want to talk for a bit?"], speaker="mira", community="mind")
    assert "[dm @alice] A moderator from Mind: depression and anxiety says:" in out
    assert "[dm @alice] I'm here. Do you want to talk for a bit?" in out
    assert "[#mind] Haven: Sent to alice privately." in out
    out = await console.run(["dm: hello?"], speaker="bob", community="mind")
    assert out == ["[dm @bob] Hi, I'm Haven. Send /help to see what I can do, or /resources for support lines."]
