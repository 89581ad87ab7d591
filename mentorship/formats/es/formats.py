"""Django's formats for this language, but for the date fields' format: it
names the month in a word, so a typed date cannot be read two ways, and the
fields read it back (see en_GB/formats.py)."""

SHORT_DATE_FORMAT = "j b Y"  # 8 abr 2027
SHORT_DATETIME_FORMAT = "j b Y H:i"
