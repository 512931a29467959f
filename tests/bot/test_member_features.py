"""Check-ins, reminders, buddies, privacy, campaigns and verified professionals, through the console.

Every `console.run` is a new process on the same database; `after` moves the clock and runs what is due.
"""

import json
from datetime import UTC, datetime


def export_of(out: list[str], who: str = "alice") -> dict:
    """The JSON the console printed after `[attachment haven-mydata.json]`."""
    prefix = f"[dm @{who}] "
    start = out.index(f"{prefix}[attachment haven-mydata.json]") + 1
    lines = []
    for line in out[start:]:
        lines.append(line.removeprefix(prefix))
        if line == f"{prefix}}}":
            break
    return json.loads("\n".join(lines))


def run_due_after(clock, **delta):
    async def after(app):
        clock.advance(**delta)
        await app.run_due()
    return after


async def test_checkin_and_reminder_are_stored_exported_and_forgotten(console):
    out = await console.run(["/checkin 2 rough night with lows", "/remind 2h take long-acting insulin"])
    assert any(line.startswith("[dm @alice] Thanks for checking in. I've noted a 2.") for line in out)
    assert "[dm @alice] I'll remind you Mon 02 Mar at 14:00 (Europe/London): take long-acting insulin" in out

    out = await console.run(["/reminders", "/checkins", "/mydata"])
    assert "[dm @alice] 1. Mon 02 Mar at 14:00 (Europe/London): take long-acting insulin" in out
    assert "[dm @alice] ·············▂" in out
    export = export_of(out)
    assert export["member"]["name"] == "alice"
    assert [(c["mood"], c["note"]) for c in export["checkins"]] == [(2, "rough night with lows")]
    assert [i["text"] for i in export["scheduled"]] == ["take long-acting insulin"]

    out = await console.run(["/forgetme"])
    assert any("send /forgetme confirm" in line for line in out)
    out = await console.run(["/forgetme confirm", "/mydata", "/reminders"])
    assert any(line.startswith("[dm @alice] Done. I've erased what I kept about you.") for line in out)
    export = export_of(out)
    assert export["checkins"] == [] and export["scheduled"] == []
    assert "rough night" not in "\n".join(out)
    assert "[dm @alice] You have no reminders. Set one with /remind 2h take your insulin." in out


async def test_bad_checkins_and_reminders_get_a_clear_usage_line(console):
    out = await console.run(["/checkin 7", "/checkin daily 8pm", "/remind soon take insulin", "/remind 2h",
                             "/remind cancel 3", "/timezone Mars/Olympus"])
    assert "[#t1d] Haven: '7' is not a mood; give a number from 1 (very low) to 5 (very good), " \
           "or 'daily 20:00' or 'stop'." in out
    assert "[#t1d] Haven: '8pm' is not a time of day; use 24-hour HH:MM, like 08:00 or 19:30." in out
    assert "[#t1d] Haven: 'soon' is not a time I understand; try 2h, 30m, tomorrow 08:00, daily 08:00 or " \
           "mon,thu 19:30." in out
    assert "[#t1d] Haven: text is missing." in out
    assert "[#t1d] Haven: there is no number 3; /reminders shows them." in out
    assert "[#t1d] Usage: /remind <when> <text>" in out
    assert any(line.startswith("[#t1d] Haven: I don't know the time zone 'Mars/Olympus'") for line in out)


async def test_a_reminder_fires_once_on_time_across_restarts(console, clock):
    await console.run(["/remind 2h take long-acting insulin", "/remind mon,thu 19:30 group call"])
    reminder = "[dm @alice] ⏰ Reminder: take long-acting insulin"
    out = await console.run([], after=run_due_after(clock, hours=1, minutes=59))
    assert reminder not in out
    out = await console.run([], after=run_due_after(clock, minutes=1))
    assert out.count(reminder) == 1
    # A day later, Haven having been down through Monday 19:30: the weekly one runs once, late.
    group = "[dm @alice] ⏰ Reminder: group call"
    out = await console.run(["/reminders"], after=run_due_after(clock, days=1))
    assert reminder not in out
    assert out.count(group) == 1
    assert "[dm @alice] 1. every mon, thu at 19:30 (Europe/London): group call" in out  # the one-off is done
    out = await console.run([], after=run_due_after(clock, days=1))
    assert group not in out
    out = await console.run([], after=run_due_after(clock, days=1, hours=6))  # Thursday 20:00
    assert out.count(group) == 1


async def test_daily_checkin_prompt_in_the_members_time_zone(console, clock):
    out = await console.run(["/timezone Europe/Berlin", "/checkin daily 20:00"])
    assert "[dm @alice] I'll check in with you every day at 20:00 (Europe/Berlin). /checkin stop ends it; " \
           "/timezone changes your time zone." in out
    prompt = "[dm @alice] Hi, it's check-in time."
    out = await console.run([], after=run_due_after(clock, hours=6, minutes=59))  # 18:59 UTC, 19:59 in Berlin
    assert not any(line.startswith(prompt) for line in out)
    out = await console.run([], after=run_due_after(clock, minutes=1))
    assert sum(line.startswith(prompt) for line in out) == 1
    out = await console.run([], after=run_due_after(clock, hours=23))
    assert not any(line.startswith(prompt) for line in out)
    out = await console.run(["/checkin 4"], after=run_due_after(clock, hours=1))
    assert sum(line.startswith(prompt) for line in out) == 1
    out = await console.run(["/checkin stop"], after=run_due_after(clock, days=2))
    assert "[dm @alice] Okay, no more daily check-in messages. You can still /checkin any time." in out
    assert not any(line.startswith(prompt) for line in out)


async def test_announcements_and_meetings_post_in_the_room_once(console, clock):
    out = await console.run(["/announce tomorrow 09:00 Walk for diabetes on Saturday",
                             "/meeting thu 19:30 Evening circle", "/meeting 2h nope"], speaker="mira")
    assert "[#t1d] Haven: I'll post it Tue 03 Mar at 09:00 (Europe/London)." in out
    assert "[#t1d] Haven: Scheduled: Evening circle, every thu at 19:30 (Europe/London). I'll post a reminder " \
           "in the room each time." in out
    assert "[#t1d] Haven: a meeting repeats; give days and a time, like 'thu 19:30' or 'daily 08:00'." in out
    out = await console.run(["/announce 1h hello"], speaker="bob")
    assert "[#t1d] Haven: /announce is for moderators." in out
    out = await console.run(["/meetings"], speaker="bob")
    assert "[#t1d] 1. Evening circle, every thu at 19:30 (Europe/London)" in out

    announcement = "[#t1d] Haven: 📣 Walk for diabetes on Saturday"
    out = await console.run([], after=run_due_after(clock, hours=20, minutes=59))
    assert announcement not in out
    out = await console.run([], after=run_due_after(clock, minutes=1))
    assert out.count(announcement) == 1
    out = await console.run([], after=run_due_after(clock, days=1))
    assert announcement not in out

    meeting = "[#t1d] Haven: 📅 Evening circle is starting now. Everyone is welcome to join."
    out = await console.run([], after=run_due_after(clock, days=1, hours=10, minutes=30))  # Thursday 19:30
    assert out.count(meeting) == 1
    out = await console.run(["/meeting cancel 1", "/meetings"], speaker="mira", after=run_due_after(clock, days=7))
    assert "[#t1d] Haven: Cancelled the meeting: Evening circle" in out
    assert "[#t1d] Haven: There are no regular meetings here yet." in out
    assert meeting not in out


async def test_moderators_list_and_cancel_announcements_and_a_cancelled_one_never_posts(console, clock):
    await console.run(["/announce tomorrow 09:00 Walk for diabetes on Saturday: meet at the park gates at ten, "
                       "bring water and a snack", "/announce 2h Pump clinic Q&A tonight"], speaker="mira")
    out = await console.run(["/announce list"], speaker="mira")
    assert "[#t1d] Haven: Announcements waiting to be posted:" in out
    listed = [line for line in out if line.startswith("[#t1d] #")]
    assert [line.split(" ", 2)[2] for line in listed] == [
        "Mon 02 Mar at 14:00 (Europe/London): Pump clinic Q&A tonight",
        "Tue 03 Mar at 09:00 (Europe/London): Walk for diabetes on Saturday: meet at the park gates at te…",
    ]
    assert "[#t1d] Cancel one with /announce cancel N." in out
    clinic = listed[0].split()[1]  # "#12": the number moderators type

    out = await console.run([f"/announce cancel {clinic}"], speaker="bob")
    assert "[#t1d] Haven: /announce is for moderators." in out
    out = await console.run([f"/announce cancel {clinic}", "/announce list"], speaker="mira", community="long-covid")
    assert f"[#long-covid] Haven: announcement {clinic} belongs to another community; cancel it there." in out
    assert "[#long-covid] Haven: No announcements are waiting to be posted here." in out
    out = await console.run(["/announce cancel 9999", "/announce cancel 99999999999999999999", "/announce cancel soon", f"/announce cancel {clinic}",
                             f"/announce cancel {clinic}", "/announce list"], speaker="mira")
    assert "[#t1d] Haven: there is no announcement #9999; /announce list shows them." in out
    assert "[#t1d] Haven: there is no announcement #99999999999999999999; /announce list shows them." in out
    assert "[#t1d] Haven: give the number /announce list shows, like 1." in out
    assert f"[#t1d] Haven: Cancelled announcement {clinic}; it will not be posted: Pump clinic Q&A tonight" in out
    assert f"[#t1d] Haven: announcement {clinic} was already posted or cancelled." in out
    assert sum(line.startswith("[#t1d] #") for line in out) == 1
    out = await console.run(["/audit"], speaker="mira")
    assert any("announce.cancel" in line and "Pump clinic" in line for line in out)

    # Later runs are new processes: the cancelled one stays cancelled, the other posts on time.
    out = await console.run([], after=run_due_after(clock, hours=3))
    assert not any("Pump clinic" in line for line in out)
    out = await console.run(["/announce list"], speaker="mira", after=run_due_after(clock, days=1))
    assert "[#t1d] Haven: 📣 Walk for diabetes on Saturday: meet at the park gates at ten, bring water and a snack" \
        in out
    assert not any("Pump clinic" in line for line in out)
    out = await console.run(["/announce list"], speaker="mira")
    assert "[#t1d] Haven: No announcements are waiting to be posted here." in out


async def test_awareness_days_post_with_trusted_resources_once_a_year(console, clock):
    clock.now = datetime(2026, 11, 14, 8, 59, tzinfo=UTC)
    day = "[#t1d] Haven: Today is World Diabetes Day."

    async def count_items(app):
        items = await app.store.active_items("awareness", community="t1d")
        assert len(items) == 1  # one per community and date, however often Haven starts
        clock.advance(minutes=1)
        await app.run_due()

    await console.run([])
    out = await console.run([], after=count_items)
    assert sum(line.startswith(day) for line in out) == 1
    assert "[#t1d] Trusted information:" in out
    assert any(line.startswith("[#t1d] - Diabetes UK: https://") for line in out)
    out = await console.run([], after=run_due_after(clock, days=364))
    assert not any(line.startswith(day) for line in out)
    out = await console.run([], after=run_due_after(clock, days=1))
    assert sum(line.startswith(day) for line in out) == 1


async def test_checkins_are_purged_after_a_year_and_old_reminders_sooner(console, clock):
    out = await console.run(["/checkin 1 old and sad", "/remind 1h stretch", "/remind cancel 1", "/mydata"])
    assert [i["text"] for i in export_of(out)["scheduled"]] == ["stretch"]
    clock.advance(days=200)
    await console.run(["/checkin 5 a good day"])
    out = await console.run(["/mydata"])
    assert [c["mood"] for c in export_of(out)["checkins"]] == [1, 5]
    assert export_of(out)["scheduled"] == []  # a cancelled reminder goes with the retention window
    await console.run([], after=run_due_after(clock, days=166))  # the first is now 366 days old
    out = await console.run(["/mydata"])
    assert [c["note"] for c in export_of(out)["checkins"]] == ["a good day"]


async def test_buddies_match_by_detail_and_learn_only_each_others_name(console):
    await console.run(["/country DE", "/buddy pump"], speaker="alice")
    out = await console.run(["/buddy"], speaker="bob")
    assert "[dm @bob] You're on the buddy list in Type 1 Diabetes. I'll tell you privately when I find " \
           "someone." in out
    out = await console.run(["/buddy Pump"], speaker="carol")
    assert "[dm @carol] I found a buddy for you in Type 1 Diabetes: alice. Send /buddy accept to say yes, or " \
           "/buddy end to say no thanks." in out
    assert "[dm @alice] I found a buddy for you in Type 1 Diabetes: carol. Send /buddy accept to say yes, or " \
           "/buddy end to say no thanks." in out
    assert not any("DE" in line for line in out)

    out = await console.run(["/buddy accept"], speaker="carol")
    assert "[dm @carol] Thanks! I'll let you know when alice accepts too." in out
    out = await console.run(["/buddy accept"], speaker="alice")
    assert "[dm @alice] You and carol are buddies in Type 1 Diabetes now. Say hello with a private message." in out
    assert "[dm @carol] You and alice are buddies in Type 1 Diabetes now. Say hello with a private message." in out
    out = await console.run(["/buddy"], speaker="alice")
    assert "[dm @alice] Your buddy in Type 1 Diabetes is carol. /buddy end ends the pairing." in out

    out = await console.run(["/buddy end"], speaker="carol")
    assert "[dm @alice] Your buddy pairing with carol in Type 1 Diabetes has ended. Send /buddy there whenever " \
           "you'd like to find someone new." in out
    out = await console.run(["/buddy accept"], speaker="alice")
    assert "[#t1d] Haven: there is no buddy suggestion to accept yet; /buddy shows where you are." in out


async def test_a_pair_that_ended_is_never_suggested_again_either_way(console):
    await console.run(["/buddy pump"], speaker="alice")
    await console.run(["/buddy pump", "/buddy accept"], speaker="carol")
    await console.run(["/buddy accept"], speaker="alice")
    out = await console.run(["/buddy end"], speaker="carol")
    assert "[dm @carol] Done. You're no longer looking for or paired with a buddy in Type 1 Diabetes. " \
           "I won't suggest alice to you again." in out

    waiting = "You're on the buddy list in Type 1 Diabetes. I'll tell you privately when I find someone who " \
              "also said 'pump'."
    out = await console.run(["/buddy pump"], speaker="carol")
    assert f"[dm @carol] {waiting}" in out
    out = await console.run(["/buddy pump"], speaker="alice")
    assert f"[dm @alice] {waiting}" in out
    out = await console.run(["/buddy pump"], speaker="dave")
    assert any(line.startswith("[dm @dave] I found a buddy for you in Type 1 Diabetes: carol.") for line in out)

    # Saying no thanks to a suggestion ends it too; the one who ended it is not offered alice again either.
    out = await console.run(["/buddy end", "/buddy pump"], speaker="carol")
    assert any(line.endswith("I won't suggest dave to you again.") for line in out)
    assert f"[dm @carol] {waiting}" in out
    out = await console.run(["/buddy pump"], speaker="dave")
    assert any(line.startswith("[dm @dave] I found a buddy for you in Type 1 Diabetes: alice.") for line in out)


async def test_forgetting_keeps_moderation_records_without_the_person(console):
    await console.run(["@bob: hello all"])
    await console.run(["/warn @bob please keep it kind"], speaker="mira")
    out = await console.run(["/forgetme confirm"], speaker="bob")
    assert any("1 moderation record must be kept for the community's safety, so it stays, no longer linked to you"
               in line for line in out if line.startswith("[dm @bob] Done."))
    out = await console.run(["/case 1"], speaker="mira")
    assert any("a forgotten member" in line and "please keep it kind" in line for line in out)
    assert not any("bob" in line for line in out)


async def test_verified_professionals_are_listed(console):
    await console.run(["@bob: hello all", "@carol: hi"])
    out = await console.run(["/verify @bob nurse"], speaker="carol")
    assert "[#t1d] Haven: /verify is for moderators." in out
    out = await console.run(["/verify @bob diabetes specialist nurse", "/experts"], speaker="mira")
    assert "[#t1d] Haven: bob is now shown as a verified diabetes specialist nurse." in out
    assert "[#t1d] - bob (diabetes specialist nurse)" in out
    out = await console.run(["/audit"], speaker="mira")
    assert any("verify" in line and "console:bob" in line for line in out)
    out = await console.run(["/unverify @bob", "/experts"], speaker="mira")
    assert "[#t1d] Haven: No one here is verified as a health professional yet." in out


async def test_a_verified_professionals_posts_show_their_profession_beside_their_name(console):
    await console.run(["@bob: hello all"])
    await console.run(["/verify @bob diabetes specialist nurse"], speaker="mira")
    out = await console.run(["@bob: Happy to talk about pump settings", "@carol: thanks bob",
                             "@bob: call me on 07911 123456", "@bob: I want to end my life"])
    assert "[#t1d] bob (verified: diabetes specialist nurse): Happy to talk about pump settings" in out
    assert "[#t1d] carol: thanks bob" in out
    assert not any("07911" in line for line in out if line.startswith("[#t1d] bob"))  # removed posts stay out
    assert "[#t1d] bob (verified: diabetes specialist nurse): I want to end my life" in out
    await console.run(["/unverify @bob"], speaker="mira")
    out = await console.run(["@bob: back to being just bob"])
    assert "[#t1d] bob: back to being just bob" in out


async def test_checkins_come_with_a_chart_image_where_the_platform_shows_images(console):
    import struct
    import zlib

    from bot.charts import BAR, GAP, HEIGHT, mood_chart_png

    out = await console.run(["/checkin 2 rough night", "/checkins"])
    assert any(line.startswith("[dm @alice] [attachment checkins.png, ") for line in out)

    png = mood_chart_png([None, 5, 1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (3 * (BAR + GAP) + GAP, HEIGHT)
    idat_length = struct.unpack(">I", png[33:37])[0]
    rows = zlib.decompress(png[41:41 + idat_length])
    stride = 1 + 3 * width

    def pixel(x: int, y: int) -> tuple[int, ...]:
        return tuple(rows[y * stride + 1 + 3 * x: y * stride + 4 + 3 * x])

    top = 5  # a row near the top: only the day with mood 5 reaches it
    assert pixel(GAP + (BAR + GAP) + 1, top) != (255, 255, 255)
    assert pixel(GAP + 2 * (BAR + GAP) + 1, top) == (255, 255, 255)
    assert pixel(GAP + 1, HEIGHT - 1) != (255, 255, 255), "a day without a check-in is a grey stub"
