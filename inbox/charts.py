"""Stacked bar charts as inline SVG, drawn on the server: no chart library, no script.
Every label is escaped (the values are our own enums, but the habit costs nothing)."""

from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
# Names that mean something keep their colour on every chart (critical is red, Discord is blurple);
# each is readable on the light and the dark page.
NAMED = {"critical": "#d62728", "high": "#ff7f0e", "medium": "#1f77b4", "low": "#8c8c8c",
         "discord": "#5865f2", "email": "#2ca02c", "x": "#7f7f7f", "api": "#9467bd"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 40, 28, 10


def stacked_bars(title: str, series: dict[str, dict[str, int]], days: list[str]) -> Markup:
    names = sorted(series)
    totals = [sum(series[n].get(d, 0) for n in names) for d in days]
    peak = max(totals or [0]) or 1
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    bar_w = plot_w / max(1, len(days))
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 20 * ((len(names) + 3) // 4)}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{LEFT}" y="{HEIGHT - 6}" class="axis">{escape(days[0] if days else "")}</text>',
             f'<text x="{WIDTH - 10}" y="{HEIGHT - 6}" text-anchor="end" class="axis">'
             f'{escape(days[-1] if days else "")}</text>',
             f'<text x="{LEFT - 4}" y="{TOP + 10}" text-anchor="end" class="axis">{peak}</text>',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 10}" y2="{TOP + plot_h}" class="baseline"/>']
    for i, day in enumerate(days):
        y = TOP + plot_h
        for j, name in enumerate(names):
            count = series[name].get(day, 0)
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            parts.append(f'<rect x="{LEFT + i * bar_w + 1:.1f}" y="{y:.1f}" width="{max(1.0, bar_w - 2):.1f}" '
                         f'height="{h:.1f}" fill="{_colour(name, j)}"><title>{escape(day)} '
                         f'{escape(name)}: {count}</title></rect>')
    for j, name in enumerate(names):
        x, y = LEFT + (j % 4) * 170, HEIGHT + 12 + 20 * (j // 4)
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{_colour(name, j)}"/>'
                     f'<text x="{x + 14}" y="{y}" class="legend">{escape(name.replace("_", " "))} '
                     f'({sum(series[name].values())})</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped parts


def _colour(name: str, index: int) -> str:
    return NAMED.get(name, PALETTE[index % len(PALETTE)])
