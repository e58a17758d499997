"""Draw the Grafana dashboard's panel layout (titles and queries) to docs/grafana-dashboard-layout.png."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def draw(dashboard: Path, out: Path) -> None:
    panels = json.loads(dashboard.read_text())["panels"]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig, ax = plt.subplots(figsize=(12, height * 0.3))
    for p in panels:
        g = p["gridPos"]
        ax.add_patch(Rectangle((g["x"] + 0.2, g["y"] + 0.2), g["w"] - 0.4, g["h"] - 0.4, fc="#eef3fb", ec="#3b6bb5"))
        ax.text(g["x"] + 0.6, g["y"] + 1.2, p["title"], fontsize=10, weight="bold")
        for i, t in enumerate(p["targets"]):
            ax.text(g["x"] + 0.6, g["y"] + 2.4 + i * 1.2, t["expr"][:62], fontsize=6.5, family="monospace")
    ax.set_xlim(0, 24)
    ax.set_ylim(height, 0)
    ax.axis("off")
    ax.set_title("fruit-pipeline Grafana dashboard (layout)")
    fig.savefig(out, dpi=90, bbox_inches="tight")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "grafana-dashboard-layout.png"
    draw(ROOT / "helm" / "fruit-pipeline" / "files" / "grafana-dashboard.json", target)
