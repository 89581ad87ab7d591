"""How dates and times read in British English, the app's own words; the
other languages use Django's formats for them.

Pages and PDFs say a date in full (DATE_FORMAT); date fields show and read the
shorter SHORT_DATE_FORMAT, which every language parses back
(``agreements/forms/widgets.py``). Times are on the 24-hour clock.
"""

DATE_FORMAT = "j F Y"  # 8 April 2027
DATETIME_FORMAT = "j F Y, H:i"  # 8 April 2027, 14:30
TIME_FORMAT = "H:i"  # 14:30
SHORT_DATE_FORMAT = "j M Y"  # 8 Apr 2027
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 8 Apr 2027, 14:30
