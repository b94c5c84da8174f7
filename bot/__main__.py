"""The `casebot` command: run, login, check-config, cross-sign, doctor, backup, restore, demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
import time
from pathlib import Path

import yaml

from bot import logs
from bot.config import Config, ConfigError, Secrets, as_dict, load
from bot.loading import known_plugins, known_schemas, load_plugin_classes

log = logging.getLogger("casebot")


def _load(path: str | None) -> tuple[Config, Secrets]:
    return load(Path(path) if path else None, plugin_sections=frozenset(known_plugins()))


def _check_config(args: argparse.Namespace) -> int:
    try:
        config, secrets = _load(args.config)
        plugins = load_plugin_classes(config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    effective = as_dict(config)
    effective.pop("sections")
    for cls, cfg in plugins:
        effective[cls.name] = as_dict(cfg) if cfg is not None else {}
    effective["secrets"] = secrets.masked()
    print(yaml.safe_dump(effective, allow_unicode=True, sort_keys=False), end="")
    return 0


def _login(args: argparse.Namespace) -> int:
    from bot.matrix import MatrixTransport

    config, secrets = _load(args.config)
    password = secrets.password or getpass.getpass(f"Password for {config.matrix.user_id}: ")
    transport = MatrixTransport(config, secrets, insecure_dev=args.insecure_dev)
    creds = asyncio.run(transport.login(password))
    print(f"Logged in as {creds.user_id}, device {creds.device_id}. Credentials saved in "
          f"{transport.credentials_path}; CASEBOT_PASSWORD can now leave .env.")
    return 0


def _cross_sign(args: argparse.Namespace) -> int:
    from bot.matrix import MatrixTransport

    config, secrets = _load(args.config)
    logs.setup(config.logging.level, config.logging.format)

    async def go() -> str:
        transport = MatrixTransport(config, secrets, insecure_dev=args.insecure_dev)
        try:
            await transport.connect()
            if args.reset:
                return (await transport.cross_sign(reset=True)).message
            done = transport.cross_signing
            return done.message if done else "cross-signing failed: see the log above"
        finally:
            await transport.close()

    print(asyncio.run(go()))
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.startup import phases

    phases.pause_collector()
    phases.mark("interpreter and command line")
    from bot.service import serve

    phases.mark("imports")
    config, secrets = _load(args.config)
    logs.setup(config.logging.level, config.logging.format)
    phases.mark("configuration")
    asyncio.run(serve(config, secrets, insecure_dev=args.insecure_dev))
    return 0


def _passphrase(secrets: Secrets, confirm: bool) -> str:
    """CASEBOT_BACKUP_PASSPHRASE, or asked on the terminal (twice for a new archive)."""
    if secrets.backup_passphrase:
        return secrets.backup_passphrase
    first = getpass.getpass("Backup passphrase: ")
    if confirm and getpass.getpass("Again: ") != first:
        from bot.backup import BackupError

        raise BackupError("the two passphrases differ")
    return first


def _backup(args: argparse.Namespace) -> int:
    from bot.backup import backup, check_destination

    config, secrets = _load(args.config)
    dest = Path(args.dest)
    if dest.is_dir() or args.dest.endswith(os.sep):
        dest = dest / time.strftime("casebot-%Y%m%d-%H%M%S.backup")
    check_destination(dest)  # before the passphrase is asked
    manifest = backup(config.data_dir, dest, _passphrase(secrets, confirm=True))
    print(f"{dest}: {len(manifest.files)} files of {config.data_dir}, device "
          f"{manifest.device_id}, encrypted. Keep CASEBOT_PICKLE_KEY with it: the crypto "
          "store and the cross-signing keys inside are encrypted with it.")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from bot.backup import restore

    config, secrets = _load(args.config)
    plugins = load_plugin_classes(config)
    manifest, warnings = restore(Path(args.src), config.data_dir,
                                 _passphrase(secrets, confirm=False), secrets.pickle_key,
                                 known_schemas(cls for cls, _ in plugins).get)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if manifest.user_id and manifest.user_id != config.matrix.user_id:
        print(f"warning: the backup is of {manifest.user_id}, the configuration says "
              f"{config.matrix.user_id}: the bot will refuse to start", file=sys.stderr)
    made = time.strftime("%Y-%m-%d %H:%M", time.localtime(manifest.created))
    print(f"Restored {len(manifest.files)} files into {config.data_dir} (device "
          f"{manifest.device_id}, backed up {made}). "
          "Stop any other copy of this bot before `casebot run`.")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from bot.doctor import main as doctor_main

    return doctor_main(Path(args.config), args.json, insecure_dev=args.insecure_dev)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import main as demo_main

    logs.setup("WARNING")
    return demo_main(script_only=args.script_only)


def _directory(args: argparse.Namespace) -> int:
    # The trust feature's command (a plugin's CLI: imported only when asked for).
    from plugins.trust.cli import main as directory_main

    config, _secrets = _load(args.config)
    return directory_main(config, Path(args.file))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="casebot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, text in (
        ("run", _run, "run the bot until SIGINT/SIGTERM"),
        ("login", _login, "create the bot's device once and save its credentials"),
        ("check-config", _check_config, "validate and print the effective configuration"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("-c", "--config", default="config.yaml", help="YAML configuration")
        cmd.add_argument("--insecure-dev", action="store_true",
                         help="allow a crypto store without CASEBOT_PICKLE_KEY (tests only)")
        cmd.set_defaults(func=func)
    cross = sub.add_parser("cross-sign", help="cross-sign the bot's device (Element strict mode)")
    cross.add_argument("-c", "--config", default="config.yaml", help="YAML configuration")
    cross.add_argument("--insecure-dev", action="store_true", help=argparse.SUPPRESS)
    cross.add_argument("--reset", action="store_true",
                       help="replace the bot's cross-signing keys (rooms show an identity change)")
    cross.set_defaults(func=_cross_sign)
    directory = sub.add_parser("directory", help="the professional directory (trust feature)")
    directory_sub = directory.add_subparsers(dest="action", required=True)
    imp = directory_sub.add_parser(
        "import", help="import the Annuaire Santé personne-activité extract (physicians)")
    imp.add_argument("file", help="PS_LibreAcces_Personne_activite_<date>.txt")
    imp.add_argument("-c", "--config", default="config.yaml", help="YAML configuration")
    imp.set_defaults(func=_directory)
    doctor = sub.add_parser("doctor", help="check everything the bot needs, read-only (the "
                            "bot may run); exit 1 if it cannot work")
    doctor.add_argument("-c", "--config", default="config.yaml", help="YAML configuration")
    doctor.add_argument("--json", action="store_true", help="findings as JSON")
    doctor.add_argument("--insecure-dev", action="store_true", help=argparse.SUPPRESS)
    doctor.set_defaults(func=_doctor)
    for name, func, text, arg, arg_help in (
        ("backup", _backup, "an encrypted snapshot of the data directory (bot may run)",
         "dest", "archive file to write (or a directory to write it in)"),
        ("restore", _restore, "restore a backup into an empty data directory",
         "src", "archive made by casebot backup"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument(arg, help=arg_help)
        cmd.add_argument("-c", "--config", default="config.yaml", help="YAML configuration")
        cmd.set_defaults(func=func)
    demo = sub.add_parser("demo", help="a throwaway homeserver, the bot and two physicians")
    demo.add_argument("--script-only", action="store_true",
                      help="play the scripted exchange, print it and exit")
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        from bot.backup import BackupError
        from bot.matrix import TransportError

        if isinstance(exc, TransportError | BackupError):
            print(f"casebot: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
