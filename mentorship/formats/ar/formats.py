"""Django's formats for this language, but for the date fields' format: it
names the month in a word, so a typed date cannot be read two ways, and the
fields read it back (see en_GB/formats.py)."""

SHORT_DATE_FORMAT = "j F Y"  # 8 إبريل 2027
SHORT_DATETIME_FORMAT = "j F Y H:i"
# Django's Arabic has no date-time format of its own: the date, then the time.
DATETIME_FORMAT = "j F، Y، g:i A"
