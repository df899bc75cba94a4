"""``vidgen``: the command-line edge. One file per command; this one only wires them up.

Kept light on purpose: nothing here (or in the command modules' top level) imports the store,
the queue, FastAPI, Pillow or ffmpeg, so ``vidgen --help`` and ``vidgen status 12`` start fast.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from vidgen.cli import (
    auth,
    cancel,
    config,
    generate,
    jobs,
    logs,
    prune,
    publish,
    recover,
    retry,
    serve,
    status,
    videos,
    worker,
)
from vidgen.cli.output import example, plain_help_command

app = typer.Typer(
    name="vidgen",
    help="Unattended short-video factory: queue a job, let a worker render it, review the MP4.",
    epilog=example(
        "vidgen generate --theme 'Product Demo'",
        "vidgen worker",
        "vidgen status 12 --watch",
    ),
    no_args_is_help=True,
    # Typer's --install-completion/--show-completion: its completion module is imported by
    # typer.main anyway, so this costs start-up nothing measurable (bench/cli_start.py).
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from vidgen import __version__

        typer.echo(f"vidgen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    log_file: Annotated[
        str | None,
        typer.Option(
            "--log-file",
            metavar="PATH",
            help="Append this command's output and errors to PATH, creating its folder "
            "(for cron: works on a fresh HOME, where '>> ~/.vidgen/x.log' cannot).",
        ),
    ] = None,
) -> None:
    """Unattended short-video factory: queue a job, let a worker render it, review the MP4."""
    if log_file is not None:
        _redirect_to(log_file)


def _redirect_to(raw: str) -> None:
    """Point stdout and stderr (the file descriptors, so child processes too) at a log file,
    after one line saying when and what ran."""
    import shlex
    from datetime import UTC, datetime
    from pathlib import Path

    from vidgen.cli.output import EXIT_USAGE, die

    path = Path(raw).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        die(f"--log-file {raw}: cannot write there ({exc.strerror}); pick another file", EXIT_USAGE)
    sys.stdout.flush()
    sys.stderr.flush()
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    command = shlex.join(["vidgen", *sys.argv[1:]])
    os.write(fd, f"{stamp} {command}\n".encode(errors="backslashreplace"))
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


for module in (generate, jobs, status, logs, retry, cancel, worker, recover, prune, serve, config):
    module.register(app)
videos.register(app)
publish.register(app)
auth.register(app)
_plain = plain_help_command()
for _info in app.registered_commands:
    _info.cls = _plain


def run(args: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; usage errors become one line on stderr."""
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    from vidgen.cli.output import print_error, set_json_errors

    set_json_errors(sys.argv[1:] if args is None else list(args))
    code = 0
    try:
        result = app(args=args, prog_name="vidgen", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        code = 130
    except NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        code = 0
    except UsageError as exc:
        # One line, not click's usage block: cron mails and scripts read this.
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        print_error(f"{exc.format_message()}{hint}")
        code = exc.exit_code
    except typer.TyperException as exc:
        print_error(str(exc))
        code = getattr(exc, "exit_code", 2)
    return code


def main() -> None:
    """Console-script entry: ``run`` without the slow interpreter teardown."""
    code = run()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown (module finalisers, GC of everything SQLAlchemy built):
    # it costs ~0.15 s per command and there is nothing left to clean up.
    os._exit(code)


if __name__ == "__main__":
    main()
