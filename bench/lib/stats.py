"""Small statistics and table helpers for the benchmarks (Python 3 standard library only)."""

import math
import statistics


def summary(values):
    """median, p90 (nearest rank), mean, min, max and count of a list of numbers; {} if empty."""
    if not values:
        return {}
    s = sorted(values)
    return {
        "n": len(s),
        "median": statistics.median(s),
        "p90": s[max(0, math.ceil(0.9 * len(s)) - 1)],
        "mean": statistics.fmean(s),
        "min": s[0],
        "max": s[-1],
    }


def ratio(a, b):
    """a / b, or None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def table(header, rows):
    """Left-aligned first column, right-aligned others; rows are lists of strings."""
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = []
    for n, r in enumerate([header] + rows):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
