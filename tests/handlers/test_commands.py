from bot.views import HELP_COMMANDS
from handlers.commands import SUBCOMMANDS


def test_every_warden_subcommand_is_in_the_help():
    """A subcommand nobody can discover is a subcommand nobody uses."""
    documented = {cmd.split()[1] for cmd, _ in HELP_COMMANDS if cmd.startswith("/warden ")}

    assert documented == set(SUBCOMMANDS)
