#!/usr/bin/env python3
"""Parses an iCalendar file with the `icalendar` library (PyPI) and prints its events as
JSON: [{"uid", "summary", "start", "end", "url"}]. Used by the change calendar's test to
check the feed with a real iCalendar parser; exits non-zero when the file does not parse."""

import json
import sys

import icalendar


def main() -> int:
    with open(sys.argv[1], "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    if cal.name != "VCALENDAR":
        print(f"not a calendar: {cal.name}", file=sys.stderr)
        return 1
    if str(cal.get("VERSION")) != "2.0":
        print("VERSION is not 2.0", file=sys.stderr)
        return 1
    events = []
    for ev in cal.walk("VEVENT"):
        start = ev.decoded("DTSTART")
        end = ev.decoded("DTEND")
        if end <= start:
            print(f"{ev.get('UID')}: ends before it starts", file=sys.stderr)
            return 1
        events.append(
            {
                "uid": str(ev.get("UID")),
                "summary": str(ev.get("SUMMARY")),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "url": str(ev.get("URL", "")),
            }
        )
    json.dump(events, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
