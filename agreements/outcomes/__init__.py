"""The program's Outcomes page: how its pairings do, month by month, as charts
and as CSV.

Everything is read from metadata the app keeps for it: the agreement row's
dates, goal counts and fading flag, the ``MonthlyOutcome`` rows
(``agreements.models.outcomes``) and the survey answers' numbers, summed by
the database. So the page runs four queries whatever the program's size, and
none reads what a pair wrote: a survey's comment is never selected.

Survey answers reach the program only as a cell of a closed calendar quarter
and one survey moment, and only when at least ``SURVEY_MIN_RESPONDENTS``
people answered in it ("k-anonymity"). A cell of the current quarter would
change as each answer arrives, and an admin who looked before and after one
person answered would read that person's answer in the difference. Ranges of
months chosen freely, or a running total, would do the same: two that differ
by one answer give that answer away. So a cell always covers a whole quarter
that is over (whatever the range, which only chooses the quarters shown),
and there is no total across quarters or moments.

``figures`` reads them; ``charts`` builds each chart from what it read, as a
``Chart`` (see its docstring) that ``templates/programs/_outcome_chart.html``
draws, with ``drawing`` to place its bars and ``words`` to write its figures;
``CHARTS`` names them.
"""

from agreements.months import quarter_of, shift_month

from .charts import CHARTS, chart_csv, page
from .figures import MOST_MONTHS, Figures, Period, midnight, min_respondents

__all__ = [
    "CHARTS",
    "MOST_MONTHS",
    "Figures",
    "Period",
    "shift_month",
    "chart_csv",
    "midnight",
    "min_respondents",
    "page",
    "quarter_of",
]
