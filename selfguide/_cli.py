"""The `selfguide` command: `selfguide demo`, and one subcommand per registered task."""

import argparse
import sys
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int | None]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {}


def command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    """Register a subcommand: `@command("demo", "…", add_arguments)` on its handler."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (help, add_arguments, handler)
        return handler

    return register


def _load_commands() -> None:
    from . import _demo  # noqa: F401  (registers `demo`)
    from .conditional import _command as _conditional  # noqa: F401  (registers `conditional`)
    from .toys import _command  # noqa: F401  (registers `toy`)


def main(argv: list[str] | None = None) -> int:
    _load_commands()
    parser = argparse.ArgumentParser(
        prog="selfguide", description="Self-weighted guidance for diffusion models."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    try:
        return int(COMMANDS[args.command][2](args) or 0)
    except KeyboardInterrupt as error:
        from ._interrupt import interrupted_message

        call = f"selfguide {args.command}"
        print(interrupted_message(call, error, ["selfguide", *argv]), file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
