"""Draw results/latest.png from latest.json; runs in the throwaway venv (has matplotlib).

    python _chart.py latest.json latest.png
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

COLORS = {True: "#2e8b57", False: "#c0392b", None: "#7f8c8d"}


def main(json_path: str, png_path: str) -> None:
    with open(json_path) as source:
        report = json.load(source)
    rows = [row for row in report["rows"] if row["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(11, 0.32 * len(rows) + 1.6))
    labels = [f"{row['group'].split(',')[0][:28]}: {row['metric']} ({row['unit']})"
              for row in rows]
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
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
