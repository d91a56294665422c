import time

from django.conf import settings
from django.core.management.base import BaseCommand

from zhili.demo.builder import DemoBuilder


class Command(BaseCommand):
    help = "Build (or complete) the demo city of Nantong and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["small", "city"], default="small")

    def handle(self, *args, scale="small", **options):
        started = time.monotonic()
        builder = DemoBuilder(scale=scale, stdout=self.stdout)
        users = builder.build()
        s = builder.summary
        self.stdout.write(
            f"Demo city ready in {time.monotonic() - started:.1f}s "
            f"(added {s.areas} areas, {s.grids} grids, {s.orgs} organisations, {s.users} users, "
            f"{s.events} events, {s.persons} persons, {s.special} under special management)."
        )
        self.stdout.write(f"\nDemo logins (password for all: {settings.ZHILI_DEMO_PASSWORD}):")
        width = max(len(u["username"]) for u in users)
        for u in users:
            where = " · ".join(x for x in (u["area"], u["org"], u["title"]) if x)
            self.stdout.write(f"  {u['username'].ljust(width)}  {u['role']} — {where}")
