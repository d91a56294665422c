from django.core import checks


@checks.register()
def work_periods_are_valid(app_configs, **kwargs):
    """A malformed ZHILI_WORK_PERIODS would only fail when the first deadline is computed:
    refuse to start instead."""
    from django.conf import settings

    from zhili.workdays.clock import DEFAULT_WORK_PERIODS, parse_work_periods

    raw = getattr(settings, "ZHILI_WORK_PERIODS", None) or DEFAULT_WORK_PERIODS
    try:
        parse_work_periods(raw)
    except ValueError as exc:
        return [checks.Error(f"ZHILI_WORK_PERIODS={raw!r}: {exc}",
                             hint="Use HH:MM-HH:MM ranges separated by commas, e.g. "
                                  "08:30-12:00,13:30-17:30.",
                             id="zhili.workdays.E001")]
    return []
