"""Timestamps in the formats of the compatibility contract."""
import datetime

SAMPLE_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def sample_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return utcnow().strftime(SAMPLE_FORMAT)


def format_sample(when: datetime.datetime) -> str:
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc)
    return when.strftime(SAMPLE_FORMAT)


def parse_sample(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, SAMPLE_FORMAT).replace(
        tzinfo=datetime.timezone.utc)


def parse_iso(text: str) -> datetime.datetime:
    """An ISO-8601 time (``Z``/``z`` for UTC accepted): in UTC when it has
    a zone, naive (as written) when it has none.

    :raises ValueError: when ``text`` is not ISO-8601.
    """
    value = text.strip()
    if value.endswith(('Z', 'z')):
        value = value[:-1] + '+00:00'
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc)
    return parsed


def normalize(text: str | None) -> str | None:
    """Turn any ISO-8601 time into the sample format; None stays None.

    :param text: a time as the source sent it.
    :raises ValueError: when ``text`` is not ISO-8601.
    """
    if text is None:
        return None
    if len(text) == 20 and text.endswith('Z') and text[10] == 'T':
        return text
    parsed = parse_iso(text.replace(' ', 'T', 1))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return format_sample(parsed)
