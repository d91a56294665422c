"""The `zhili` command: demo, serve, worker, scheduler, audit verify, keys, and Django's
manage."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time


def _django(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["zhili", *argv])


def _host_port(args) -> tuple[str, str]:
    host = args.host or os.environ.get("ZHILI_HOST", "127.0.0.1")
    port = str(args.port or os.environ.get("ZHILI_PORT", "8000"))
    return host, port


def _serve(args) -> int:
    """Web server, plus (in embedded mode) one task worker and one scheduler, as children.

    Ctrl-C or SIGTERM stops all of them; if one dies, the others are stopped too.
    """
    host, port = _host_port(args)
    _django(["collectstatic", "--noinput", "-v0"])
    python = sys.executable
    web = [python, "-m", "gunicorn", "zhili.config.wsgi:application",
           "--bind", f"{host}:{port}", "--worker-class", "gthread",
           "--workers", str(args.workers), "--threads", "4",
           "--max-requests", "2000", "--max-requests-jitter", "200",
           "--access-logfile", "-", "--logger-class", "zhili.config.logs.GunicornLogger",
           "--timeout", "120", "--no-control-socket"]
    commands = [web]
    if not args.web_only:
        commands += [[python, "-m", "zhili.cli", "worker"],
                     [python, "-m", "zhili.cli", "scheduler"]]
    children = [subprocess.Popen(cmd) for cmd in commands]
    print(f"Zhili is serving on http://{host}:{port}/  (Ctrl-C stops it)", flush=True)

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stop()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":
        _django(argv[1:])
        return 0

    parser = argparse.ArgumentParser(prog="zhili", description="Zhili governance platform")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="migrate, build the demo city, print logins, serve")
    demo.add_argument("--scale", choices=["small", "city"], default="small")
    demo.add_argument("--no-serve", action="store_true")
    for p in (demo, sub.add_parser("serve", help="run the web server (+ worker and scheduler)")):
        p.add_argument("--host")
        p.add_argument("--port")
        p.add_argument("--workers", type=int, default=2)
        p.add_argument("--web-only", action="store_true",
                       help="production: run workers and the scheduler as separate services")
    sub.add_parser("worker", help="run a background task worker")
    sched = sub.add_parser("scheduler", help="run the cron scheduler")
    sched.add_argument("--once", action="store_true", help="enqueue due jobs once and exit")
    aud = sub.add_parser("audit", help="audit trail tools")
    aud.add_argument("action", choices=["verify"])
    keys = sub.add_parser("keys", help="personal-data keys: status, rotate (re-encrypt)")
    keys.add_argument("action", choices=["status", "rotate"])
    keys.add_argument("--batch", type=int, default=1000, help="rows per transaction")
    keys.add_argument("--reindex", action="store_true", help="also recompute blind indexes")
    sub.add_parser("manage", help="Django's manage.py commands")
    args = parser.parse_args(argv)

    if args.command == "demo":
        # The demo city has no real video platform: recordings come from the built-in fake
        # (set ZHILI_VIDEO_PLATFORM to connect a real one).
        os.environ.setdefault("ZHILI_VIDEO_PLATFORM", "fake")
        _django(["migrate", "--noinput", "-v0"])
        _django(["build_demo", "--scale", args.scale])
        if args.no_serve:
            return 0
        return _serve(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "worker":
        _django(["db_worker", "--queue-name", "*", "--interval", "1"])
        return 0
    if args.command == "scheduler":
        _django(["run_scheduler", *(["--once"] if args.once else [])])
        return 0
    if args.command == "keys":
        _django(["rotate_pii_keys", "--status"] if args.action == "status" else
                ["rotate_pii_keys", "--batch-size", str(args.batch),
                 *(["--reindex"] if args.reindex else [])])
        return 0
    if args.command == "audit":
        _django(["audit_verify"])
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
