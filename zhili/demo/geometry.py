"""Synthetic, non-overlapping rectangular boundaries for the demo tree.

Each area's rectangle is cut into rows of cells for its children, cell sizes proportional to
each child's weight (its number of grids), so siblings never overlap and every child lies inside
its parent. They exist so maps have something to show; every one is flagged synthetic.
"""

from __future__ import annotations

import math

# Roughly Nantong's extent (WGS-84).
CITY_BOX = (120.25, 31.72, 121.90, 32.70)  # west, south, east, north


def split(box: tuple[float, float, float, float], weights: list[float]) -> list[tuple]:
    """Cut `box` into len(weights) rectangles with areas proportional to the weights."""
    n = len(weights)
    if n == 0:
        return []
    west, south, east, north = box
    width, height = east - west, north - south
    rows = max(1, min(n, round(math.sqrt(n * height / width)))) if width > 0 else 1
    per_row = math.ceil(n / rows)
    groups = [list(range(i, min(i + per_row, n))) for i in range(0, n, per_row)]
    total = sum(weights) or 1.0
    cells: list[tuple] = [None] * n
    top = north
    for group in groups:
        group_weight = sum(weights[i] for i in group) or 1.0
        row_height = height * group_weight / total
        left = west
        for i in group:
            cell_width = width * weights[i] / group_weight
            cells[i] = (left, top - row_height, left + cell_width, top)
            left += cell_width
        top -= row_height
    return cells


def polygon(box: tuple[float, float, float, float], inset: float = 0.0) -> dict:
    west, south, east, north = box
    dx, dy = (east - west) * inset, (north - south) * inset
    west, south, east, north = west + dx, south + dy, east - dx, north - dy
    ring = [[round(west, 6), round(south, 6)], [round(east, 6), round(south, 6)],
            [round(east, 6), round(north, 6)], [round(west, 6), round(north, 6)],
            [round(west, 6), round(south, 6)]]
    return {"type": "Polygon", "coordinates": [ring]}


def center(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return round((box[0] + box[2]) / 2, 6), round((box[1] + box[3]) / 2, 6)
