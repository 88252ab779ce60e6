"""chart.svg: accepted/s and delivered/s per second as two polylines, hand-written SVG."""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 70, 60


def _nice_step(maximum: float, ticks: int = 5) -> float:
    raw = maximum / ticks if maximum > 0 else 1
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def render(title: str, accepted: list[int], delivered: list[int], subtitle: str = "") -> str:
    seconds = max(len(accepted), len(delivered), 1)
    peak = max(max(accepted, default=0), max(delivered, default=0), 1)
    y_step = _nice_step(peak)
    y_max = y_step * math.ceil(peak / y_step)
    x_step = max(1, int(_nice_step(seconds, 8)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(second: float) -> float:
        return LEFT + plot_w * second / seconds

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="15">{escape(title)}</text>',
    ]
    if subtitle:
        parts.append(f'<text x="{WIDTH / 2}" y="37" text-anchor="middle" fill="#555">{escape(subtitle)}</text>')
    # Grid and y axis labels.
    value = 0.0
    while value <= y_max + 1e-9:
        yy = y(value)
        parts.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{WIDTH - RIGHT}" y2="{yy:.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{value:g}</text>')
        value += y_step
    second = 0
    while second <= seconds:
        xx = x(second)
        parts.append(f'<line x1="{xx:.1f}" y1="{TOP + plot_h}" x2="{xx:.1f}" y2="{TOP + plot_h + 5}" stroke="#333"/>')
        parts.append(f'<text x="{xx:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{second}</text>')
        second += x_step
    # Axes.
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#333"/>')
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 15}" text-anchor="middle">'
                 'seconds since the first submission</text>')
    parts.append(f'<text x="18" y="{TOP + plot_h / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 18 {TOP + plot_h / 2})">messages per second</text>')

    def polyline(series: list[int], colour: str) -> str:
        # Each second's count is drawn at the middle of its second.
        points = " ".join(f"{x(i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(series))
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'

    parts.append(polyline(accepted, "#1f77b4"))
    parts.append(polyline(delivered, "#d62728"))
    # Legend, above the plot on the right.
    lx, ly = WIDTH - RIGHT - 420, TOP - 14
    parts.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="#1f77b4" stroke-width="2"/>')
    parts.append(f'<text x="{lx + 30}" y="{ly + 4}">accepted/s (relay answered 250)</text>')
    parts.append(f'<line x1="{lx + 240}" y1="{ly}" x2="{lx + 264}" y2="{ly}" stroke="#d62728" stroke-width="2"/>')
    parts.append(f'<text x="{lx + 270}" y="{ly + 4}">delivered/s (at simulator)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
