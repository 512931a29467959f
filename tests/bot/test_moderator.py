"""The moderators' toolkit through the console, across restarts."""


async def test_a_member_cannot_ban(console):
    await console.run(["@bob: hello"])
    out = await console.run(["/ban @bob spamming"], speaker="carol")
    assert "[#t1d] Haven: /ban is for moderators." in out
    out = await console.run(["/audit"], speaker="mira")
    assert any("console:carol command.ban" in line and "[refused]" in line for line in out)


async def test_warn_mute_restart_cases_and_the_mute_holds_until_it_ends(console, clock):
    await console.run(["@bob: hi everyone"])
    out = await console.run(["/warn @bob please keep it kind", "/mute @bob 10m repeated insults"], speaker="mira")
    assert "[#t1d] Haven: Case #1: bob warned. Reason: please keep it kind" in out
    assert "[#t1d] Haven: Case #2: bob was muted for 10 minutes. Reason: repeated insults" in out
    assert any(line.startswith("[dm @bob] You have been muted in Type 1 Diabetes for 10 minutes (case #2).")
               for line in out)
    assert any("/appeal 2" in line for line in out if line.startswith("[dm @bob]"))

    # A new process: cases and the mute come from the database.
    out = await console.run(["/cases @bob"], speaker="mira")
    assert any(line.startswith("[#t1d] #1 warn bob") for line in out)
    assert any(line.startswith("[#t1d] #2 mute bob, 10 minutes (active)") for line in out)

    clock.advance(minutes=5)
    out = await console.run(["still muted?"], speaker="bob")
    assert "[#t1d] bob: still muted?" not in out
    assert "[removed #t1d] bob (muted)" in out

    clock.advance(minutes=6)
    out = await console.run([], after=lambda app: app.run_due())
    assert "[dm @bob] Your mute in Type 1 Diabetes has ended (case #2). Welcome back." in out
    out = await console.run(["back again"], speaker="bob")
    assert "[#t1d] bob: back again" in out


async def test_a_filter_added_by_a_moderator_removes_a_matching_post(console):
    out = await console.run(["/filter add glucoshield*", "/filter list"], speaker="mira")
    assert "[#t1d] Haven: Added the filter 'glucoshield*'; it applies now." in out
    assert "[#t1d] block: glucoshield*" in out
    out = await console.run(["Try GlucoShieldPro, it fixed my numbers"], speaker="bob")
    assert "[#t1d] bob: Try GlucoShieldPro, it fixed my numbers" not in out
    assert any(line.startswith("[removed #t1d] bob") for line in out)
    assert any("matched a word this community's moderators filter" in line for line in out)
    out = await console.run(["/filter test buy glucoshield now", "/filter remove glucoshield*",
                             "/filter add *"], speaker="mira")
    assert "[#t1d] Haven: That would be caught by: glucoshield*." in out
    assert "[#t1d] Haven: Removed the filter 'glucoshield*'." in out
    assert any(line.startswith("[#t1d] Usage: /filter") for line in out)


async def test_moderators_cannot_sanction_each_other_and_reasons_are_required(console):
    await console.run(["@bob: hi"])
    out = await console.run(["/mute @bob 10m", "/mute @bob 10x rude", "/warn @mira nope", "/kick @nobody rude"],
                            speaker="mira")
    assert "[#t1d] Haven: reason is missing." in out
    assert "[#t1d] Haven: '10x' is not a duration; use a number and a unit, like 30m, 2h, 1d or 1w." in out
    assert "[#t1d] Haven: mira is a moderator; moderators cannot sanction each other." in out
    assert "[#t1d] Haven: I don't know anyone called @nobody here." in out


async def test_three_warnings_mute_for_a_day(console):
    await console.run(["@bob: hi"])
    out = await console.run(["/warn @bob one", "/warn @bob two", "/warn @bob three"], speaker="mira")
    assert any(line.startswith("[dm @bob] You have been muted in Type 1 Diabetes for 1 day (case #4).")
               for line in out)
    assert "[#t1d] bob is muted until 2026-03-03 12:00 UTC" in out


async def test_report_queue_approve_reject(console):
    await console.run(["@bob: hi"])
    out = await console.run(["/report @bob selling pills in DMs"], speaker="carol")
    assert "[dm @carol] Thank you. The moderators will look at it; they won't tell anyone it was you." in out
    assert "[mods #t1d] New report #1 about bob: selling pills in DMs" in out
    assert "carol" not in "\n".join(line for line in out if line.startswith("[mods"))
    out = await console.run(["/queue", "/reject 1 handled privately", "/reject 1"], speaker="mira")
    assert any(line.startswith("[#t1d] #1 report from bob") for line in out)
    assert "[#t1d] Haven: #1 rejected." in out
    assert "[#t1d] Haven: #1 was already decided." in out


async def test_appeal_and_my_warnings(console):
    await console.run(["@bob: hi"])
    await console.run(["/warn @bob off topic"], speaker="mira")
    out = await console.run(["/mywarnings", "/appeal 1 it was on topic, about pumps", "/appeal 9 hm"],
                            speaker="bob")
    assert any(line.startswith("[dm @bob] #1 warn in Type 1 Diabetes") for line in out)
    assert "[dm @bob] Your appeal of case #1 is with the moderators. You'll hear back here." in out
    assert any(line.startswith("[mods #t1d] Appeal #1 of case #1 from bob") for line in out)
    assert "[#t1d] Haven: case #9 is not one of yours; /mywarnings lists them." in out
    out = await console.run(["/approve 1"], speaker="mira")
    assert "[#t1d] Haven: #1 approved." in out


async def test_lockdown_and_slowmode(console, clock):
    await console.run(["/lockdown 1h"], speaker="mira")
    out = await console.run(["can I post?"], speaker="bob")
    assert "[removed #t1d] bob (lockdown)" in out
    out = await console.run(["moderators still can"], speaker="mira")
    assert "[#t1d] mira: moderators still can" in out
    clock.advance(hours=2)
    out = await console.run(["/slowmode 60"], speaker="mira")
    assert "[#t1d] Haven: Slow mode: one post every 60 seconds." in out
    out = await console.run(["one", "two"], speaker="bob")
    assert "[#t1d] bob: one" in out
    assert "[removed #t1d] bob (slowmode)" in out


async def test_stats_count_what_happened(console):
    await console.run(["hello", "I want to die", "call me on 07911 123456"], community="t1d", locale="en-GB")
    out = await console.run(["/ack 1", "/stats 7d"], speaker="mira")
    text = "\n".join(out)
    assert "Messages screened: 3" in text
    assert "crisis.self 1" in text and "pii 1" in text
    assert "Crisis incidents opened: 1; median time to acknowledge: 0.0 min" in text


async def test_a_number_too_long_for_any_id_is_unknown_not_a_failure(console):
    huge = "99999999999999999999"
    out = await console.run([f"/case {huge}", f"/ack {huge}", f"/approve {huge}", f"/reply {huge} hello"],
                            speaker="mira")
    assert f"[#t1d] Haven: there is no number #{huge}." in out  # /case and /approve
    assert f"[#t1d] Haven: there is no incident #{huge}." in out  # /ack and /reply
    assert not any("went wrong" in line.lower() for line in out)
