"""Configuration: validation with key paths, environment overrides, secrets kept out of YAML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load, parse_duration
from bot.loading import known_plugins, load_plugin_classes

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_example_config_is_valid() -> None:
    config, _ = load(REPO / "config.example.yaml", environ={},
                     plugin_sections=frozenset(known_plugins()))
    assert [cls.name for cls, _ in load_plugin_classes(config)] == list(known_plugins())
    assert config.matrix.user_id == "@casebot:hopital.example"
    assert config.matrix.undecryptable_grace == 60
    assert config.data_dir == REPO / "data"


def test_problems_name_the_key_path(tmp_path: Path) -> None:
    path = write(tmp_path, "matrix:\n  homeserver: ftp://x\n  sync_timeout: soon\n"
                 "language: de\nbogus: 1\nrate_limit:\n  commands: many\n")
    with pytest.raises(ConfigError) as err:
        load(path, environ={})
    problems = "\n".join(err.value.problems)
    assert "matrix.sync_timeout: expected a duration" in problems
    assert "language: must be one of fr, en" in problems
    assert "bogus: unknown key" in problems
    assert "rate_limit.commands: expected a number" in problems
    assert "matrix.homeserver: must start with http" in problems


def test_environment_overrides_and_dotenv(tmp_path: Path) -> None:
    path = write(tmp_path, "matrix:\n  homeserver: http://a\n")
    (tmp_path / ".env").write_text("CASEBOT_PICKLE_KEY=from-dotenv\nCASEBOT_PASSWORD=pw\n")
    config, secrets = load(path, environ={
        "CASEBOT__MATRIX__HOMESERVER": "http://b:8008",
        "CASEBOT__MATRIX__ALLOWED_INVITERS": "['@*:b']",
        "CASEBOT_PASSWORD": "from-env",
    })
    assert config.matrix.homeserver == "http://b:8008"
    assert config.matrix.allowed_inviters == ("@*:b",)
    assert secrets.pickle_key == "from-dotenv"
    assert secrets.password == "from-env"


def test_secrets_in_yaml_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "matrix:\n  password: hunter2\n")
    with pytest.raises(ConfigError) as err:
        load(path, environ={})
    assert "matrix.password: secrets are not read from YAML" in err.value.problems[0]


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("4h", 14400), ("14d", 1209600),
                                               ("14j", 1209600), (90, 90), ("1.5h", 5400)])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, text=True,
                          capture_output=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin"})


def test_check_config_cli_reports_errors_with_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "matrix:\n  user_id: casebot\ncommand_prefix: ''\n")
    result = run_cli("check-config", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "matrix.user_id: must look like @name:server" in lines
    assert "command_prefix: must be non-empty and without spaces" in lines


def test_check_config_cli_masks_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, (REPO / "config.example.yaml").read_text())
    (tmp_path / ".env").write_text("CASEBOT_PASSWORD=hunter2\n")
    result = run_cli("check-config", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout
    assert "CASEBOT_PASSWORD: '***'" in result.stdout
    assert "CASEBOT_PICKLE_KEY: (unset)" in result.stdout


def test_check_config_cli_checks_ranges_and_room_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "admin_power_level: 150\ntimezone: Mars/Olympus\n"
                           "prefix_aliases: [cas]\n")
    result = run_cli("check-config", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "admin_power_level: must be between 0 and 100" in lines
    assert "timezone: unknown time zone Mars/Olympus (expected e.g. Europe/Paris)" in lines
    assert "prefix_aliases: a prefix is 1 to 3 symbols, no letters or digits (e.g. ? or //)" \
        in lines
    path = write(tmp_path, "cases:\n  resolve_power_level: -1\n"
                           "specialties:\n  rooms:\n    '!x:y':\n      remove: [nope]\n")
    result = run_cli("check-config", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "cases.resolve_power_level: must be between 0 and 100" in lines
    assert "specialties.rooms.!x:y.remove: unknown specialty 'nope'" in lines
