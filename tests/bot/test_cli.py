import pytest

from bot.cli import build_parser, main


def _commands(parser, path=()):
    """Every (path, help) of every subcommand, however deep."""
    for action in parser._actions:
        if action.__class__.__name__ != "_SubParsersAction":
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, subparser in action.choices.items():
            yield (*path, name), helps.get(name)
            yield from _commands(subparser, (*path, name))


def test_every_command_has_help_text():
    """`warden --help` explains every command, and each command's --help its actions."""
    commands = list(_commands(build_parser()))

    assert ("scan", "drive") in [path for path, _ in commands]
    for path, text in commands:
        assert text, f"warden {' '.join(path)} has no help text"


def test_check_config_reports_the_line_and_exits_2(tmp_path, monkeypatch, capsys):
    """A bad duration is reported as file, line, column and the expected form."""
    policy = tmp_path / "warden.yaml"
    policy.write_text(
        "company:\n  name: X\n  domains: [example.com]\n"
        'security_channel: "#security"\nanalysts: [U012345]\n'
        "reminders:\n  cadence: [1d, soon]\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WARDEN_POLICY", str(policy))

    code = main(["check-config"])

    assert code == 2
    err = capsys.readouterr().err
    assert "line 7, col 17" in err
    assert "duration must look like 3d, 12h or 30m" in err


def test_policy_prints_markdown(monkeypatch, capsys):
    """`warden policy` turns the example policy into a Markdown document."""
    monkeypatch.setenv("WARDEN_POLICY", "warden.yaml")

    assert main(["policy"]) == 0

    assert capsys.readouterr().out.startswith("#")


@pytest.mark.parametrize("args", [["audit", "verify"], ["audit", "export"]])
def test_audit_without_a_database_says_where_it_looked(tmp_path, monkeypatch, capsys, args):
    """Audit commands on a missing database name the path and the setting."""
    monkeypatch.setenv("WARDEN_DB", str(tmp_path / "nope.db"))

    assert main(args) == 2

    assert "WARDEN_DB" in capsys.readouterr().err
