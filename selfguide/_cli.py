"""The `selfguide` command: one subcommand per entry point in the group `selfguide.commands`.

A package adds a subcommand by naming, in its `pyproject.toml`, a module (or any object)
that has

- `HELP`: the one-line description shown by `selfguide --help`;
- `add_arguments(parser)`: adds the subcommand's arguments to an `argparse` parser;
- `run(args)`: runs it and returns the exit code (`None` means 0);

```toml
[project.entry-points."selfguide.commands"]
toy = "selfguide.toys._command"
```

The core itself defines no subcommand: `selfguide toy`, `selfguide demo` and
`selfguide conditional` come from `selfguide.toys` and `selfguide.conditional` this way.
"""

import argparse
import importlib.metadata
import sys
from typing import Any

COMMAND_GROUP = "selfguide.commands"


def load_commands() -> dict[str, Any]:
    """The installed subcommands, name → the object its entry point names, sorted by name."""
    commands = {}
    entries = sorted(importlib.metadata.entry_points(group=COMMAND_GROUP), key=lambda e: e.name)
    for entry in entries:
        if entry.name in commands:
            continue  # the same package seen twice on the path: its first copy wins
        command = entry.load()
        missing = [a for a in ("HELP", "add_arguments", "run") if not hasattr(command, a)]
        if missing:
            raise TypeError(
                f"selfguide: the entry point {entry.name!r} ({entry.value}) in the group "
                f"{COMMAND_GROUP!r} lacks {', '.join(missing)}; a subcommand needs HELP, "
                "add_arguments(parser) and run(args)."
            )
        commands[entry.name] = command
    return commands


def main(argv: list[str] | None = None) -> int:
    commands = load_commands()
    if not commands:
        print(
            f"selfguide: no subcommands are installed (no entry points in the group "
            f"{COMMAND_GROUP!r}); reinstall the package, e.g. `pip install -e .`.",
            file=sys.stderr,
        )
        return 2
    parser = argparse.ArgumentParser(
        prog="selfguide", description="Self-weighted guidance for diffusion models."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in commands.items():
        command.add_arguments(sub.add_parser(name, help=command.HELP, description=command.HELP))
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    try:
        return int(commands[args.command].run(args) or 0)
    except KeyboardInterrupt as error:
        from ._interrupt import interrupted_message

        call = f"selfguide {args.command}"
        print(interrupted_message(call, error, ["selfguide", *argv]), file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
