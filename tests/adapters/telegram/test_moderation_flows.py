"""The moderators' toolkit on Telegram: the same flows as in the console, through the real library."""

from __future__ import annotations

from tests.adapters.telegram.conftest import BOB, GROUP, MODERATOR


def replies(tg, chat=GROUP) -> list[str]:
    return [m["text"] for m in tg.sent_messages(chat)]


async def reply_starting(tg, prefix: str, chat=GROUP) -> str:
    return await tg.wait_for(lambda: next((t for t in replies(tg, chat) if t.startswith(prefix)), None))


async def test_warn_and_mute_are_on_record_after_a_restart(tg, haven, db_url):
    tg.start_private_chat(BOB)
    async with haven(db_url):
        tg.push_message(GROUP, BOB, "hi all")
        tg.push_message(GROUP, MODERATOR, "/warn @bob keep it kind please")
        tg.push_message(GROUP, MODERATOR, "/mute @bob 10m repeated insults")
        await reply_starting(tg, "Case #2: Bob was muted for 10 minutes")
        notice = await tg.wait_for(lambda: [t for t in replies(tg, BOB) if "muted" in t])
    assert "/appeal 2" in notice[0]
    async with haven(db_url):  # a new process: the record comes from the database
        tg.push_message(GROUP, MODERATOR, "/cases @bob")
        listing = await reply_starting(tg, "Cases for Bob:")
    assert "#1 warn Bob" in listing and "#2 mute Bob, 10 minutes (active)" in listing


async def test_a_filter_added_by_a_moderator_removes_a_scam_post(tg, haven, sqlite_url):
    async with haven(sqlite_url):
        tg.push_message(GROUP, MODERATOR, "/filter add glucoshield*")
        await reply_starting(tg, "Added the filter 'glucoshield*'")
        scam = tg.push_message(GROUP, BOB, "DM me for GlucoShieldPro, it cured my diabetes")["message"]["message_id"]
        await tg.wait_for(lambda: (GROUP, scam) in tg.deleted)


async def test_a_timed_mute_is_lifted_after_a_restart(tg, haven, sqlite_url, clock):
    tg.start_private_chat(BOB)
    async with haven(sqlite_url, clock=clock):
        tg.push_message(GROUP, BOB, "hi")
        tg.push_message(GROUP, MODERATOR, "/mute @bob 10m spamming")
        await tg.wait_for_call("restrictChatMember", lambda p: "_result" in p)
    clock.advance(minutes=11)
    async with haven(sqlite_url, clock=clock) as app:
        await app.run_due()
        lifted = await tg.wait_for(lambda: [c for c in tg.calls_of("restrictChatMember")
                                            if all(c["permissions"].values())])
        ended = await tg.wait_for(lambda: [t for t in replies(tg, BOB) if "has ended" in t])
    assert (lifted[0]["chat_id"], lifted[0]["user_id"]) == (GROUP, BOB)
    assert ended == ["Your mute in Type 1 Diabetes has ended (case #1). Welcome back."]
