"""The canonical form of an agreement's content and its SHA-256.

A signature is bound to the hash of this form, so it must be stable:

* the content is a JSON object holding every section and both parties;
* every string is Unicode NFC, with CRLF/CR turned into LF, trailing spaces
  removed from each line and the whole value stripped;
* dates are ISO 8601 (YYYY-MM-DD); choices are their stored values;
* lists are in the order the agreement shows them: goals by target date,
  check-ins by date, off-limits topics as they were added;
* it is serialised with sorted keys, no insignificant whitespace and UTF-8
  (``ensure_ascii=False``), and the SHA-256 is taken of those bytes.
"""

import datetime
import hashlib
import json
import unicodedata

from django.utils.translation import pgettext

# /3 added the meeting time and time zone to the schedule; versions signed
# under /2 keep their bytes and are read with no meeting time. /4 added the
# agreement's language (section "language") and keeps the fixed clauses and
# the consent statement in it, with a "translation" in its second language;
# earlier versions read as British English, the source words. /5 added the
# longest pause to the term ("pause_max_days", null for none); versions
# signed earlier are read with no limit.
CANONICAL_FORMAT = "mentorship-agreement/5"


def normalise_text(value):
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in value.split("\n")).strip()


def normalise(value):
    """Recursively normalise a JSON-like value for canonical serialisation."""
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, dict):
        return {str(key): normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def canonical_json(data):
    return json.dumps(normalise(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(data):
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        items = {}
        for key, item in value.items():
            items.update(_flatten(item, f"{prefix}{key}." if prefix or key else key))
        return items
    if isinstance(value, list):
        items = {}
        for index, item in enumerate(value, start=1):
            items.update(_flatten(item, f"{prefix}{index}."))
        return items
    return {prefix.rstrip("."): value}


def _label(path, labels):
    parts = []
    for part in path.split("."):
        parts.append(f"#{part}" if part.isdigit() else labels.get(part, part.replace("_", " ")))
    label = " › ".join(parts)
    return label[:1].upper() + label[1:]


def _display(value, choices):
    if value is None or value == "":
        return "—"
    if value is True:
        return pgettext("a changed yes/no value", "yes")
    if value is False:
        return pgettext("a changed yes/no value", "no")
    return str(choices.get(value, value))


def diff(before, after, labels=None, choices=None):
    """List what changed between two section snapshots, field by field.

    ``labels`` maps data keys to words and ``choices`` maps a key to the labels
    of its stored choice values, so people read "Every two weeks", not
    "fortnightly".
    """
    labels, choices = labels or {}, choices or {}
    old, new = _flatten(normalise(before)), _flatten(normalise(after))
    changes = []
    # In the order the section lists its fields, then whatever was removed.
    for path in [*new, *(path for path in old if path not in new)]:
        if old.get(path) != new.get(path):
            key_choices = choices.get(path.rsplit(".", 1)[-1], {})
            changes.append(
                {
                    "field": _label(path, labels),
                    "before": _display(old.get(path), key_choices),
                    "after": _display(new.get(path), key_choices),
                }
            )
    return changes
