"""Hypothesis strategies shared by the Nuki message tests: dates, names, time limits."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from hypothesis import strategies as st

from ttlock_nuki_addon.nuki.time_limits import TimeLimit
from ttlock_nuki_addon.validity import Weekday

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)
clocks = st.builds(time, st.integers(0, 23), st.integers(0, 59))


def names_fitting(size: int) -> st.SearchStrategy[str]:
    """Any name that fits a zero-padded field of `size` bytes (UTF-8, no NUL)."""
    return st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=size).filter(
        lambda name: len(name.encode()) <= size
    )


@st.composite
def time_limits(draw: st.DrawFn) -> TimeLimit:
    """Any TimeLimit a builder accepts."""
    start, end = draw(st.none() | moments), draw(st.none() | moments)
    if start is not None and end is not None:
        start, end = min(start, end), max(start, end) + timedelta(seconds=1)
    window = draw(st.none() | st.tuples(clocks, clocks))
    return TimeLimit(
        allowed_from=start,
        allowed_until=end,
        weekdays=draw(st.frozensets(st.sampled_from(Weekday))),
        from_time=None if window is None else window[0],
        until_time=None if window is None else window[1],
    )
