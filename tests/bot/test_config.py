import subprocess
import sys

import pytest

from bot.config import ConfigError, load_config, parse_config
from tests.conftest import EXAMPLE_CONFIG, ROOT


def test_example_config_is_valid_and_has_the_three_communities():
    config = parse_config(EXAMPLE_CONFIG, env={})
    assert set(config.communities) == {"t1d", "long-covid", "mind"}
    for c in config.communities.values():
        assert "console:mira" in c.moderators
        assert c.resources and all(r.url.startswith("https://") for r in c.resources)
        assert c.rules and c.locale == "en-GB"
        assert c.telegram and c.discord and c.console


def test_unknown_section_is_refused_by_name():
    with pytest.raises(ConfigError, match=r"telegramm: unknown key"):
        parse_config(EXAMPLE_CONFIG + "\n[telegramm]\ntoken = 'x'\n", env={})


def test_bad_value_names_the_key():
    bad = EXAMPLE_CONFIG.replace('locale = "en-GB"\ntimezone = "Europe/London"\nmoderators = ["console:mira", "telegram:100000001"',
                                 'locale = "english"\ntimezone = "Europe/London"\nmoderators = ["console:mira", "telegram:100000001"')
    with pytest.raises(ConfigError, match=r"communities\.t1d\.locale: must look like en-GB"):
        parse_config(bad, env={})


def test_toml_syntax_error_gives_the_line():
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 3"):
        parse_config("[haven]\nname = 'x'\nbroken = \n", env={})


def test_secrets_are_refused_in_the_file_and_read_from_the_environment():
    with pytest.raises(ConfigError, match="telegram_token: secrets are read only from the environment"):
        parse_config("telegram_token = 'abc'\n" + EXAMPLE_CONFIG, env={})
    config = parse_config(EXAMPLE_CONFIG, env={"HAVEN_TELEGRAM_TOKEN": "123:abc", "HAVEN_DATABASE_URL":
                                               "postgresql+asyncpg://u@h/db"})
    assert config.telegram_token == "123:abc"
    assert config.storage.url == "postgresql+asyncpg://u@h/db"
    assert "123:abc" not in repr(config.model_dump())


def test_a_room_bound_to_two_communities_is_refused():
    bad = EXAMPLE_CONFIG.replace("chat_ids = [-1001000000002]", "chat_ids = [-1001000000001]")
    with pytest.raises(ConfigError, match="bound to both t1d and long-covid"):
        parse_config(bad, env={})


def test_the_verified_role_must_be_a_role_of_its_own():
    bad = EXAMPLE_CONFIG.replace("verified_role_id = 300000000000000051", "verified_role_id = 300000000000000041")
    with pytest.raises(ConfigError, match=r"communities\.t1d\.discord: verified_role_id must be a role of its own"):
        parse_config(bad, env={})


def test_missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def _check(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "check-config", str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_check_config_command(tmp_path):
    good = _check(ROOT / "config.example.toml")
    assert good.returncode == 0, good.stderr
    assert "OK" in good.stdout
    bad_file = tmp_path / "bad.toml"
    bad_file.write_text(EXAMPLE_CONFIG + "\n[surprise]\n", encoding="utf-8")
    bad = _check(bad_file)
    assert bad.returncode == 1
    assert "surprise: unknown key" in bad.stderr
