from django.core.management.base import BaseCommand, CommandError

from zhili.core.audit import verify


class Command(BaseCommand):
    help = "Re-check the hash chain of the audit log; exits non-zero if it was tampered with."

    def handle(self, *args, **options):
        result = verify()
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"audit chain intact: {result.checked} rows"))
            return
        for problem in result.problems[:100]:
            self.stderr.write(problem)
        raise CommandError(f"audit chain broken: {len(result.problems)} problem(s) in "
                           f"{result.checked} rows")
