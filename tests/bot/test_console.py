"""The console as a person uses it: lines in, lines out, state kept across runs."""

import subprocess
import sys

from tests.conftest import ROOT


async def test_scripted_session_shows_help_join_and_post(console):
    out = await console.run(["/help", "/join t1d", "Does anyone else go low after a hot shower?"])
    text = "\n".join(out)
    assert "[#t1d] Haven: Here is what I can do:" in text
    assert any(line.startswith("[#t1d] /join <community> — Join a community") for line in out)
    assert "[#t1d] Haven: Welcome to Type 1 Diabetes, alice!" in text
    assert "[#t1d] alice: Does anyone else go low after a hot shower?" in out


async def test_membership_is_remembered_across_runs(console):
    await console.run(["/join long-covid"])
    out = await console.run(["/join long-covid", "/communities"])
    assert "[#t1d] Haven: You're already a member of Long COVID." in out
    assert any("long-covid: Long COVID (you're a member), 1 member." in line for line in out)


async def test_leave_then_leave_again(console):
    out = await console.run(["/join mind", "/leave mind", "/leave mind"])
    assert "[#t1d] Haven: You've left Mind: depression and anxiety. You're welcome back any time." in out
    assert "[#t1d] Haven: You're not a member of Mind: depression and anxiety." in out


async def test_bad_input_gets_a_clear_message_and_the_session_goes_on(console):
    raw = b"".join([
        b"/frobnicate\n",
        b"/join\n",
        b"/join atlantis\n",
        b"x" * 10_000 + b"\n",
        b"hello\x07 there\x1b[31m\n",
        b"\xff\xfe broken\n",
        b"/language xx\n",
        b"still here\n",
    ])
    out = await console.run(raw)
    assert "[#t1d] Haven: I don't know the command /frobnicate. Send /help to see what I can do." in out
    assert "[#t1d] Haven: community is missing." in out
    assert "[#t1d] Usage: /join <community>" in out
    assert "[#t1d] Haven: there is no community 'atlantis'; /communities lists them." in out
    assert any(line.startswith("[haven] That line is too long (10000 characters") for line in out)
    assert "[haven] I removed control characters from that line." in out
    assert "[#t1d] alice: hello there[31m" in out
    assert "[haven] That line was not valid UTF-8, so nothing was posted. Please type it again." in out
    assert "[#t1d] Haven: code must be one of: en, es, fr, de, pt." in out
    assert out[-1] == "[#t1d] alice: still here"


async def test_another_speaker_and_rules(console):
    out = await console.run(["@bob: hi all, new here", "@bob: /rules"], community="long-covid")
    assert "[#long-covid] bob: hi all, new here" in out
    assert "[#long-covid] Haven: Rules of Long COVID:" in out
    assert "[#long-covid] 1. Be kind and believe each other's experience." in out


async def test_members_cannot_use_moderator_commands(console):
    out = await console.run(["/ack 1"], speaker="bob")
    assert "[#t1d] Haven: /ack is for moderators." in out


def test_the_console_command_through_a_pipe(tmp_path):
    """The README's first command, end to end in a real process, state in a real SQLite file."""
    config = tmp_path / "haven.toml"
    config.write_text((ROOT / "config.example.toml").read_text(), encoding="utf-8")
    cmd = [sys.executable, "-m", "bot", "console", "--config", str(config), "--as", "alice", "--community", "t1d"]
    first = subprocess.run(cmd, input="/join t1d\nhello from the pipe\n", capture_output=True, text=True,
                           cwd=tmp_path, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "[#t1d] alice: hello from the pipe" in first.stdout.splitlines()
    assert (tmp_path / "haven.sqlite3").exists()
    second = subprocess.run(cmd, input="/join t1d\n", capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert "[#t1d] Haven: You're already a member of Type 1 Diabetes." in second.stdout.splitlines()


def test_run_without_tokens_explains_the_console(tmp_path):
    config = tmp_path / "haven.toml"
    config.write_text((ROOT / "config.example.toml").read_text(), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60, env=env)
    assert done.returncode == 1
    assert "python -m bot console --config config.example.toml --as alice" in done.stderr


async def test_typing_a_button_label_presses_it(console):
    out = await console.run(["I want to die", "[Check on me tomorrow]", "@mira: [Acknowledge]", "[Acknowledge]"],
                            community="mind", locale="en-GB")
    assert "[#mind] Haven: I'll check on you tomorrow. Take care of yourself until then." in out
    assert "[#mind] Haven: Incident 1 is yours, mira. Thank you." in out
    assert "[#mind] Haven: Only moderators can do that." in out


async def test_a_nul_character_from_a_platform_is_stored_safely(console):
    """The console drops control characters itself; other platforms may pass U+0000 through."""
    from datetime import UTC, datetime

    from bot.events import Actor, MessageCreated

    async def nul(app):
        await app.handle(MessageCreated(platform="console", chat_id="t1d", actor=Actor("console", "eve", "e\x00ve"),
                                        at=datetime.now(UTC), message_id="n1", text="I want to die\x00"))
        eve = await app.store.find_member("console", "eve")
        assert eve.name == "e\ufffdve"
        assert (await app.store.incident(1)).excerpt == "I want to die\ufffd"

    await console.run([], after=nul)
