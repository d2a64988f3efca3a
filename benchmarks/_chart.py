"""Draw results/latest.png from latest.json; runs in the throwaway venv (has matplotlib).

    python _chart.py latest.json latest.png
"""

from __future__ import annotations

import json
import sys
import typing

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

COLORS = {True: "#2e8b57", False: "#c0392b", None: "#7f8c8d"}


def main(json_path: str, png_path: str) -> None:
    with open(json_path) as source:
        report = json.load(source)
    rows = [row for row in report["rows"] if row["ratio"] is not None]
    engine = [row for row in report["rows"] if row["short"] == "engine" and row["ours"]]
    fig, (ax, engine_ax) = plt.subplots(
        2, 1, figsize=(11, 0.3 * (len(rows) + len(engine)) + 3),
        gridspec_kw={"height_ratios": [len(rows) + 2, len(engine) + 2]})
    labels = [f"{row['short']}: {row['metric'].strip()} ({row['unit']})" for row in rows]
    ratios = [row["ratio"] for row in rows]
    positions = list(range(len(rows)))[::-1]
    ax.barh(positions, ratios, color=[COLORS[row["pass"]] for row in rows])
    for position, row in zip(positions, rows):
        ax.text(row["ratio"] * 1.05, position, f"{row['ratio']:.3g}", va="center", fontsize=7)
    ax.set_yticks(positions)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("ours / other (log scale; other = official, or the floor where labelled; "
                  "< 1 is better except ev/s)")
    meta = report["raw"].get("meta", {})
    ax.set_title(f"inngest-sync vs official inngest {meta.get('official_version', '')} "
                 f"({meta.get('when', '')}); green pass, red fail, grey no target", fontsize=9)
    draw_engine(engine_ax, engine)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)


def draw_engine(ax: typing.Any, rows: list[dict[str, typing.Any]]) -> None:
    """Our engine's absolute numbers (no official counterpart)."""
    positions = list(range(len(rows)))[::-1]
    values = [row["ours"] for row in rows]
    ax.barh(positions, values, color=[COLORS[row["pass"]] for row in rows])
    for position, row in zip(positions, rows):
        ax.text(row["ours"] * 1.05, position, f"{row['ours']:.3g} {row['unit']}", va="center",
                fontsize=7)
    ax.set_yticks(positions)
    ax.set_yticklabels([f"engine: {row['metric']}" for row in rows], fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("engine, ours only: absolute values (log scale)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
