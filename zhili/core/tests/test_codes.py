import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhili.core import codes

digits = st.text(alphabet="0123456789", min_size=1, max_size=15)


@given(prefix=digits, code=st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_range_bounds_select_exactly_the_extensions_of_a_prefix(prefix, code):
    """The index range [p, next(p)) must contain a code iff the code starts with p."""
    upper = codes.next_prefix(prefix)
    in_range = code >= prefix and (upper is None or code < upper)
    assert in_range == code.startswith(prefix)


def test_next_prefix():
    assert codes.next_prefix("320612") == "320613"
    assert codes.next_prefix("320699") == "320700"
    assert codes.next_prefix("0999") == "1000"
    assert codes.next_prefix("999") is None


def test_pad_and_display():
    assert codes.pad("3206") == "320600000000000"
    assert codes.display(codes.pad("320612001"), 3) == "320612001"
    assert codes.display(codes.pad("3206"), 1) == "320600"


@pytest.mark.parametrize("raw", ["32 06", "3206a", "3" * 16, ""])
def test_normalize_refuses_non_codes(raw):
    with pytest.raises(codes.CodeError):
        codes.normalize(raw)


def check(code, rank, parent, parent_rank):
    codes.check_child_code(codes.pad(code), rank=rank,
                           parent_code=codes.pad(parent) if parent else None,
                           parent_rank=parent_rank)


def test_child_code_must_extend_parent():
    check("320612001", 3, "320612", 2)
    with pytest.raises(codes.CodeError, match="does not extend"):
        check("320613001", 3, "320612", 2)


def test_child_code_must_add_non_zero_digits_and_nothing_beyond_its_level():
    with pytest.raises(codes.CodeError, match="cannot all be 0"):
        check("320612000", 3, "320612", 2)
    with pytest.raises(codes.CodeError, match="must be 0"):
        check("320612001005", 3, "320612", 2)


def test_child_must_be_exactly_one_level_down():
    with pytest.raises(codes.CodeError, match="one level below"):
        check("320612001001", 4, "320612", 2)


def test_village_class_follows_nbs_committee_ranges():
    assert codes.village_class(codes.pad("320612001001")) == "community"
    assert codes.village_class(codes.pad("320612001201")) == "village"
    assert codes.village_class(codes.pad("320612001498")) == "community"
    assert codes.village_class(codes.pad("320612001598")) == "village"
