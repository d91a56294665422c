import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from zhili.core import scheduler


class Command(BaseCommand):
    help = "Run the cron scheduler: enqueue each due job exactly once per slot."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *args, once=False, interval=5.0, **options):
        names = ", ".join(f"{j.name} ({j.schedule})" for j in scheduler.registered())
        self.stdout.write(f"scheduler: {names}")
        while True:
            close_old_connections()
            started = scheduler.tick()
            if started:
                self.stdout.write(f"enqueued: {', '.join(started)}")
            if once:
                return
            time.sleep(interval)
