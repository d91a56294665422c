"""Bulk import of the registry (persons, buildings, houses and units) from CSV or Excel.

Public entry points (keep their signatures; the benchmark and the API call them):

- `import_persons(*, actor, path_or_file, fmt=None, dry_run=False, on_duplicate="skip",
  strict=True, progress=None, filename=None) -> ImportResult` — see `persons`;
- `write_template(kind) -> bytes` — the Excel template of a class (see `templates`);
- the background jobs `people.import` (checks or imports an uploaded file) in `jobs`.
"""

from zhili.people.imports.persons import (
    ON_DUPLICATE,
    SKIP,
    UPDATE,
    ImportResult,
    Issue,
    import_persons,
)

__all__ = ["ON_DUPLICATE", "SKIP", "UPDATE", "ImportResult", "Issue", "import_persons"]
