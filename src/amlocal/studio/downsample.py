"""Fewer points for a chart without losing what matters: min/max per bucket.

An evenly spaced sample (what MLflow's UI draws from) drops a spike logged once at step 73,412
and aliases an oscillating metric. Keeping each bucket's lowest and highest point, in step
order, keeps both visible at the chart's resolution, and the first and last points always stay.
"""

import math


def min_max_buckets(xs, ys, buckets):
    """(xs, ys) reduced to at most ``2 * buckets + 2`` points: for each of ``buckets`` runs of
    consecutive points, its minimum and its maximum (in x order). ``ys`` may hold None (or
    non-finite values): those points are dropped from buckets with finite values."""
    count = len(xs)
    if buckets < 1 or count <= 2 * buckets + 2:
        return list(xs), list(ys)
    out_x, out_y = [xs[0]], [ys[0]]
    size = (count - 2) / buckets
    for bucket in range(buckets):
        start = 1 + int(bucket * size)
        end = 1 + int((bucket + 1) * size)
        low = high = None
        for index in range(start, end):
            value = ys[index]
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                continue
            if low is None or value < ys[low]:
                low = index
            if high is None or value > ys[high]:
                high = index
        for index in sorted({low, high} - {None}):
            out_x.append(xs[index])
            out_y.append(ys[index])
    out_x.append(xs[-1])
    out_y.append(ys[-1])
    return out_x, out_y
