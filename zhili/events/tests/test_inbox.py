import pytest
from django.utils import timezone

from zhili.events import services
from zhili.events.models import Event
from zhili.events.views import InboxPaginator

pytestmark = pytest.mark.django_db


def report(loop, n):
    for i in range(n):
        services.report_event(actor=loop.grid_worker, channel="grid", category=loop.garbage,
                              title=f"垃圾满溢 {i}", area=loop.world.grid_a1)


def test_inbox_counts_up_to_the_cap(loop, client_for, monkeypatch):
    report(loop, 5)
    dispatcher = client_for(loop.dispatcher)
    exact = dispatcher.get("/events/?box=all")
    assert exact.status_code == 200
    assert exact.context["paginator"].count == 5 and not exact.context["paginator"].capped

    monkeypatch.setattr(InboxPaginator, "cap", 3)
    monkeypatch.setattr("zhili.events.views.InboxView.paginate_by", 2)
    capped = dispatcher.get("/events/?box=all")
    paginator = capped.context["paginator"]
    assert paginator.capped and paginator.count == 3 and paginator.count_label == "3+"
    assert paginator.num_pages == 2
    assert "3+" in capped.content.decode()
    assert len(capped.context["lines"]) == 2
    # A text search (no index can serve it) counts four pages' worth only.
    search = dispatcher.get("/events/?box=all&q=垃圾").context["paginator"]
    assert search.cap == 8 and search.count == 5 and not search.capped


def test_inbox_rows_link_label_and_flag_the_overdue(loop, client_for):
    report(loop, 2)
    late, on_time = Event.objects.order_by("pk")
    Event.objects.filter(pk=late.pk).update(overdue=True, urgency="critical")
    page = client_for(loop.dispatcher).get("/events/?box=all").content.decode()
    assert f'<a href="/events/{late.pk}/">{late.number}</a>' in page
    assert f'<a href="/events/{on_time.pk}/">{on_time.number}</a>' in page
    assert page.count('<tr class="table-danger">') == 1
    late.refresh_from_db()
    assert late.deadline_at is not None
    shown = timezone.localtime(late.deadline_at).strftime("%m-%d %H:%M")
    assert f'{shown} <span class="badge text-bg-danger">Overdue</span>' in page
    assert f'{late.title} <span class="badge text-bg-danger">{late.get_urgency_display()}' \
        in page
    assert f'<td class="text-nowrap">{late.get_state_display()}</td>' in page


def test_detail_shows_the_time_left_on_the_clock(loop, client_for):
    report(loop, 1)
    event = Event.objects.get()
    assert event.deadline_at is not None and not event.overdue
    page = client_for(loop.dispatcher).get(f"/events/{event.pk}/").content.decode()
    assert " left" in page and "0\xa0minutes left" not in page and "0 minutes left" not in page


def test_inbox_queries_do_not_grow_with_its_rows(loop, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dispatcher = client_for(loop.dispatcher)
    dispatcher.get("/events/?box=all")  # per-process caches filled
    counts = []
    for n in (2, 20):
        report(loop, n)
        with CaptureQueriesContext(connection) as queries:
            page = dispatcher.get("/events/?box=all")
        assert page.status_code == 200 and len(page.context["lines"]) >= n
        counts.append([q["sql"][:80] for q in queries.captured_queries])
    assert len(counts[0]) == len(counts[1]), "\n".join(counts[1])
