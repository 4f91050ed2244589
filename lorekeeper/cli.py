"""`lorekeeper`: database migrations, accounts, and running the cluster on this machine."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time
from pathlib import Path

from cluster.events import commands as events_commands
from cluster.settings import get_settings
from lorekeeper import storage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lorekeeper", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database migrations (Alembic)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="migrate to the newest schema (or REVISION)")
    up.add_argument("revision", nargs="?", default="heads")
    down = db_sub.add_parser("downgrade", help="migrate back to REVISION ('base' empties it)")
    down.add_argument("revision")
    db_sub.add_parser("current", help="show the database's revision")

    users = sub.add_parser("users", help="accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    admin = users_sub.add_parser(
        "create-admin", help="create an admin account, or make an existing account admin"
    )
    admin.add_argument("--username", required=True)
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read a new account's password from stdin (default: prompt for it)",
    )

    run = sub.add_parser("run", help="migrate, start Ray and Serve, serve HTTP until Ctrl-C")
    run.add_argument("--config", type=Path, default=Path("serve_config.yaml"))
    run.add_argument(
        "--overlay",
        type=Path,
        action="append",
        default=[],
        help="differences merged onto the config, e.g. serve_config.gpu.yaml (repeatable)",
    )

    kuberay = sub.add_parser(
        "kuberay", help="print a KubeRay RayService manifest rendered from the serve config"
    )
    kuberay.add_argument("--image", required=True, help="the container image with Lorekeeper")
    kuberay.add_argument("--config", type=Path, default=Path("serve_config.yaml"))
    kuberay.add_argument("--overlay", type=Path, action="append", default=[])
    kuberay.add_argument("--secret", default="lorekeeper", help="Secret with the LOREKEEPER_*")
    kuberay.add_argument("--cpu-workers", type=int, nargs=2, default=(1, 4), metavar=("MIN", "MAX"))
    kuberay.add_argument("--gpu-workers", type=int, nargs=2, default=(0, 0), metavar=("MIN", "MAX"))

    local = sub.add_parser("serve-local", help="every application in one process, bare uvicorn")
    local.add_argument("--port", type=int, default=None)

    storage.add_parser(sub)
    events_commands.add_parser(sub)

    args = parser.parse_args(argv)
    if args.command == "db":
        return _db(args)
    if args.command == "users":
        return _create_admin(args.username, args.password_stdin)
    if args.command == "run":
        return _run(_merged_config(args.config, args.overlay))
    if args.command == "kuberay":
        return _kuberay(args)
    if args.command == "storage":
        return storage.run(args)
    if args.command == "events":
        return events_commands.run(args)
    return _serve_local(args.port)


def _db(args: argparse.Namespace) -> int:
    from cluster import migrate

    url = get_settings().resolved_database_url
    if args.db_command == "upgrade":
        migrate.upgrade(url, args.revision)
        print(f"database at {args.revision}: {_safe(url)}")
    elif args.db_command == "downgrade":
        migrate.downgrade(url, args.revision)
    else:
        migrate.current(url)
    return 0


def _create_admin(username: str, password_stdin: bool) -> int:
    from pydantic import ValidationError

    from cluster.database import Database
    from domain.users.bootstrap import create_or_promote_admin

    def ask_password() -> str:  # only for a new account: a promotion keeps the password
        if password_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        import getpass

        password = getpass.getpass(f"password for {username}: ")
        if password != getpass.getpass("again: "):
            sys.exit("the passwords differ: nothing changed")
        return password

    db = Database(get_settings().resolved_database_url)
    try:
        with db.session() as session:
            user, created = create_or_promote_admin(session, username, ask_password)
    except ValidationError as exc:
        sys.exit(f"not changed: {'; '.join(e['msg'] for e in exc.errors())}")
    finally:
        db.dispose()
    print(f"{'created' if created else 'promoted'} admin {user.username} (id {user.id})")
    return 0


def _prepare() -> None:
    """Settings every process must share, fixed before any worker starts."""
    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    os.environ["LOREKEEPER_DATA_DIR"] = str(data_dir)
    settings.data_dir = data_dir
    settings.resolved_jwt_secret  # noqa: B018 - creates the shared secret file once


def _merged_config(config: Path, overlays: list[Path]) -> Path:
    """The config itself, or (with overlays) the merged one, written under the data dir."""
    if not overlays:
        return config
    from cluster import serve_config

    try:
        merged = serve_config.read(config, overlays)
    except serve_config.OverlayError as exc:
        sys.exit(str(exc))
    return serve_config.write(merged, get_settings().data_dir / "serve_config.merged.yaml")


def _kuberay(args: argparse.Namespace) -> int:
    from cluster import kuberay, serve_config
    from deployments.apps import ConfigError, load_specs

    path = _merged_config(args.config, args.overlay)
    try:  # the same checks as `run`: a manifest that cannot deploy is not printed
        load_specs(path)
    except ConfigError as exc:
        sys.exit(str(exc))
    manifest = kuberay.rayservice(
        serve_config.read(path),
        image=args.image,
        secret=args.secret,
        cpu_workers=tuple(args.cpu_workers),
        gpu_workers=tuple(args.gpu_workers),
    )
    print(kuberay.dump(manifest), end="")
    return 0


def _run(config: Path) -> int:
    from cluster import migrate
    from cluster.ray_runtime import deploy_config, start_ray
    from deployments.apps import ConfigError, load_specs

    _prepare()
    settings = get_settings()
    try:  # a wrong serve_config.yaml fails here, in seconds, not after Ray has started
        specs = load_specs(config)
    except ConfigError as exc:
        sys.exit(str(exc))
    for spec in specs:  # models are built or converted once, here, not in every replica
        if prepare := getattr(spec.ingress, "prepare", None):  # (an AppIngress's)
            prepare(spec.config, settings)
    _require_free_port(settings.host, settings.port)
    migrate.upgrade(settings.resolved_database_url)
    print(f"database ready: {_safe(settings.resolved_database_url)}", flush=True)
    print("starting Ray and Serve (about a minute on 2 cores)...", flush=True)
    start_ray(settings)
    import ray
    from ray import serve

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nstopping Serve and Ray...", flush=True)
        serve.shutdown()
        ray.shutdown()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    deploy_config(config, settings)
    base = f"http://{settings.host}:{settings.port}"
    print(f"Lorekeeper is up: API {base}/api/v2  OpenAPI {base}/docs  (Ctrl-C stops)", flush=True)
    while True:
        time.sleep(3600)


def _serve_local(port: int | None) -> int:
    """Every application of serve_config.yaml in one process, for comparison and debugging."""
    import uvicorn

    from cluster import migrate
    from cluster.database import Database
    from cluster.logs import configure_logging
    from deployments.apps import compose_local

    _prepare()
    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url)
    configure_logging(settings.log_level)
    app, _ = compose_local(settings, Database(settings.resolved_database_url))
    uvicorn.run(app, host=settings.host, port=port or settings.port, access_log=False)
    return 0


def _require_free_port(host: str, port: int) -> None:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            sys.exit(
                f"{host}:{port} is in use: stop the server holding it (another `make run`?) "
                "or set LOREKEEPER_PORT to a free port."
            )


def _safe(url: str) -> str:
    """The URL without a password, for printing."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


if __name__ == "__main__":
    sys.exit(main())
