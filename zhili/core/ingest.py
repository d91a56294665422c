"""Row-by-row ingestion for bulk sources (hotline tickets now; registries and feeds later).

Each row is handled in its own savepoint: a bad row is rejected with its errors and the rest go
on; a row already ingested (same natural key) is reported as a duplicate, not created twice.
`accepted + rejected == submitted`, always.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction

from zhili.core.services import ServiceError

MAX_REPORTED_ERRORS = 1000


class RowError(Exception):
    def __init__(self, column: str, message: str):
        self.column, self.message = column, str(message)
        super().__init__(self.message)


@dataclass
class IngestReport:
    submitted: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.duplicates

    def as_dict(self) -> dict:
        return {"submitted": self.submitted, "accepted": self.accepted, "created": self.created,
                "duplicates": self.duplicates, "rejected": self.rejected,
                "errors": self.errors[:MAX_REPORTED_ERRORS], "error_count": self.rejected}


CREATED, DUPLICATE = "created", "duplicate"


def ingest(rows: Iterable[tuple[int, dict]], handle: Callable[[dict], str], *,
           progress=None) -> IngestReport:
    """Feed each (row number, values) to `handle`, which returns CREATED or DUPLICATE or raises
    RowError / ServiceError."""
    report = IngestReport()
    for number, values in rows:
        report.submitted += 1
        try:
            with transaction.atomic():
                outcome = handle(values)
        except RowError as exc:
            report.rejected += 1
            report.errors.append({"row": number, "column": exc.column, "message": exc.message})
        except ServiceError as exc:
            report.rejected += 1
            fields = exc.field_messages or {"": [exc.message]}
            for column, messages in fields.items():
                for message in messages:
                    report.errors.append({"row": number, "column": column, "message": message})
        else:
            if outcome == DUPLICATE:
                report.duplicates += 1
            else:
                report.created += 1
        if progress is not None:
            progress.advance()
    assert report.accepted + report.rejected == report.submitted
    return report
