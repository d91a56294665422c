from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from zhili.core.pii import keys, rotation


class Command(BaseCommand):
    help = ("Re-encrypt personal data still under an old key or cipher with the active one, "
            "in batches; safe to re-run. See zhili/core/pii/keys.py for the rotation procedure.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=rotation.BATCH_SIZE)
        parser.add_argument("--check", action="store_true",
                            help="only count rows not yet under the active key; exit non-zero "
                                 "if there are any (before removing an old key)")
        parser.add_argument("--reindex", action="store_true",
                            help="also recompute every blind index (only after the index key "
                                 "or index hash changed)")
        parser.add_argument("--status", action="store_true",
                            help="only list the keys and, per encrypted field, how many values "
                                 "each key holds")
        parser.add_argument("--new-key", action="store_true",
                            help="first add a new active key to the key file (keys in the "
                                 "environment: print one to add there, and stop)")

    def handle(self, *args, batch_size, check, reindex, new_key, status=False, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if status:
            self._status()
            return
        ring = keys.keyring()
        if new_key and not self._new_key(ring):
            return
        ring = keys.keyring()
        self.stdout.write(f"active: cipher {ring.cipher}, key {ring.active_kid} "
                          f"({len(ring.keys)} key(s) from {ring.source})")
        models = rotation.encrypted_models()
        if not models:
            self.stdout.write("no model has encrypted fields")
            return
        if check:
            self._check(models)
            return
        failed = stale_indexes = 0
        for model in models:
            label = model._meta.label

            def progress(result, label=label):
                self.stdout.write(f"{label}: {result.rows_checked} rows checked, "
                                  f"{result.rows_updated} updated")

            result = rotation.rotate_model(model, reindex=reindex, batch_size=batch_size,
                                           on_batch=progress)
            self.stdout.write(f"{label}: done, {result.values_reencrypted} value(s) "
                              f"re-encrypted, {result.indexes_fixed} index(es) fixed")
            for pk, name in result.failed[:20]:
                self.stderr.write(f"{label} pk={pk}: {name} cannot be decrypted")
            failed += len(result.failed)
            stale_indexes += result.indexes_stale
        if stale_indexes:
            self.stderr.write(f"{stale_indexes} blind index(es) do not match their value (index "
                              "key or hash changed?): run again with --reindex")
        if failed:
            raise CommandError(f"{failed} value(s) could not be decrypted and were left as they "
                               "are: restore the key they name before removing any key")
        self.stdout.write(self.style.SUCCESS("all personal data is under the active key"))

    def _new_key(self, ring) -> bool:
        if not ring.from_file:
            kid, key = keys.new_key_entry()
            self.stdout.write(
                f"keys come from ZHILI_PII_KEYS: put {kid}:{key} first in it, restart every "
                "process, then run rotate_pii_keys (keep ZHILI_PII_INDEX_KEY unchanged)")
            return False
        try:
            kid = keys.add_file_key()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"added key {kid} to {ring.source} and made it active: restart the "
                          "web server and workers, then run rotate_pii_keys again to catch "
                          "values they wrote with the old key meanwhile")
        return True

    def _status(self):
        ring = keys.keyring()
        self.stdout.write(f"cipher for new values: {ring.cipher}; blind-index hash: "
                          f"{ring.index_hash}; keys from {ring.source}")
        for kid in ring.keys:
            self.stdout.write(f"key {kid}{' (active)' if kid == ring.active_kid else ''}")
        active = f"{ring.cipher}:{ring.active_kid}"
        stale = 0
        for model in rotation.encrypted_models():
            for usage in rotation.key_usage(model):
                parts = [f"{key} {count}{' (active)' if key == active else ''}"
                         for key, count in sorted(usage.by_key.items())] or ["no values"]
                if usage.other:
                    parts.append(f"unknown key {usage.other}")
                stale += usage.total - usage.by_key.get(active, 0)
                self.stdout.write(f"{usage.model}.{usage.field}: {', '.join(parts)}; "
                                  f"empty {usage.empty}")
        if stale:
            self.stdout.write(f"{stale} value(s) not under the active key: run "
                              "`zhili keys rotate`")
        else:
            self.stdout.write(self.style.SUCCESS("all personal data is under the active key"))

    def _check(self, models):
        remaining = 0
        for model in models:
            count = rotation.count_stale(model)
            remaining += count
            self.stdout.write(f"{model._meta.label}: {count} row(s) not under the active key")
        if remaining:
            raise CommandError(f"{remaining} row(s) still need rotate_pii_keys")
        self.stdout.write(self.style.SUCCESS("all personal data is under the active key"))
