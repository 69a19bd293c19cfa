"""Azure ML's time format ("2024-01-02T03:04:05.678Z") to and from epoch seconds."""

import datetime
import re


def utc(epoch):
    if epoch is None:
        return None
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch(text):
    """Epoch seconds of an Azure time string (or a datetime); None for None or an unreadable one."""
    if text is None:
        return None
    if isinstance(text, datetime.datetime):
        moment = text
    else:
        try:
            # Python < 3.11 reads only 3 or 6 fraction digits; Azure may send up to 7.
            cleaned = re.sub(r"\.(\d{1,6})\d*", lambda m: "." + m.group(1).ljust(6, "0"), str(text))
            moment = datetime.datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()
