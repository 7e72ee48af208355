"""Writing a simulation's results: summary.csv, per-SKU results, curves (PNG + HTML) and a JSON report.

The interactive curves are one self-contained HTML file: the ECharts library shipped in the package
(``simulate/vendor/echarts.min.js``, from the npm registry, Apache-2.0) is inlined, so the file opens
offline and can be mailed as is.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.simulate.metrics import SUMMARY_COLUMNS

ECHARTS_VERSION = "5.5.1"
COLOURS = {
    "stockwarden": "#d62728",
    "reorder_level": "#1f77b4",
    "days_of_cover": "#9467bd",
    "textbook": "#2ca02c",
    "hindsight": "#7f7f7f",
}
CURVES = (("stockout_days", "stockout days (SKU-location-days)"), ("fill_rate", "fill rate"))


def write_summary(summary: pd.DataFrame, out: Path) -> Path:
    """``summary.csv`` with exactly :data:`SUMMARY_COLUMNS`."""
    path = out / "summary.csv"
    summary.loc[:, list(SUMMARY_COLUMNS)].to_csv(path, index=False, float_format="%.6g")
    return path


def write_curves_png(summary: pd.DataFrame, out: Path, *, title: str) -> Path:
    """``curves.png``: stockout days and fill rate against average inventory value, one line per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, (col, label) in zip(axes, CURVES, strict=True):
        for policy, g in summary.groupby("policy", sort=False):
            g = g.sort_values("avg_inventory_value")
            ax.plot(
                g["avg_inventory_value"],
                g[col],
                marker="o",
                label=str(policy),
                color=COLOURS.get(str(policy)),
            )
            for r in g.itertuples(index=False):
                ax.annotate(str(r.knob), (r.avg_inventory_value, getattr(r, col)), fontsize=7, alpha=0.6)
        ax.set_xlabel("average inventory value")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(title)
    fig.tight_layout()
    path = out / "curves.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def echarts_source() -> str:
    """The ECharts library shipped in the package."""
    return resources.files("stockwarden.simulate").joinpath("vendor/echarts.min.js").read_text(encoding="utf-8")


def curves_html(summary: pd.DataFrame, *, title: str) -> str:
    """The self-contained interactive curves page (ECharts inlined)."""
    series: dict[str, list[dict[str, object]]] = {col: [] for col, _ in CURVES}
    for policy, g in summary.groupby("policy", sort=False):
        g = g.sort_values("avg_inventory_value")
        for col in series:
            series[col].append(
                {
                    "name": str(policy),
                    "type": "line",
                    "symbolSize": 8,
                    "itemStyle": {"color": COLOURS.get(str(policy), "#333")},
                    "data": [
                        {
                            "value": [float(r.avg_inventory_value), float(getattr(r, col))],
                            "knob": str(r.knob),
                            "fill_rate": float(r.fill_rate),
                            "turnover": float(r.turnover) if np.isfinite(r.turnover) else None,
                            "stockout_days": int(r.stockout_days),
                        }
                        for r in g.itertuples(index=False)
                    ],
                }
            )
    payload = json.dumps({"series": series, "labels": dict(CURVES)}).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1em}} .chart{{width:100%;height:460px}}</style>
<script>{echarts_source()}</script></head>
<body><h1>{title}</h1>
<p>Each point is one policy at one knob value (hover for it); lower-left is better for stockout days,
upper-left for fill rate. ECharts {ECHARTS_VERSION} (Apache-2.0) is included in this file.</p>
<div id="stockout_days" class="chart"></div><div id="fill_rate" class="chart"></div>
<script>
const data = {payload};
for (const col of Object.keys(data.series)) {{
  const chart = echarts.init(document.getElementById(col));
  chart.setOption({{
    tooltip: {{trigger: "item", formatter: p => p.seriesName + " knob " + p.data.knob +
      "<br>inventory value " + p.value[0].toFixed(0) + "<br>stockout days " + p.data.stockout_days +
      "<br>fill rate " + (100 * p.data.fill_rate).toFixed(2) + "%<br>turnover " +
      (p.data.turnover === null ? "-" : p.data.turnover.toFixed(2))}},
    legend: {{top: 0}},
    xAxis: {{type: "value", name: "average inventory value", scale: true}},
    yAxis: {{type: "value", name: data.labels[col], scale: true}},
    dataZoom: [{{type: "inside"}}, {{type: "inside", yAxisIndex: 0}}],
    series: data.series[col],
  }});
}}
</script></body></html>
"""


def write_curves_html(summary: pd.DataFrame, out: Path, *, title: str) -> Path:
    """``curves.html``."""
    path = out / "curves.html"
    path.write_text(curves_html(summary, title=title), encoding="utf-8")
    return path


def write_report(report: dict[str, object], out: Path) -> Path:
    """``report.json`` (NaN written as null)."""

    def clean(x: object) -> object:
        if isinstance(x, dict):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        if isinstance(x, float | np.floating):
            return float(x) if np.isfinite(x) else None
        if isinstance(x, np.integer):
            return int(x)
        if isinstance(x, pd.Timestamp):
            return x.date().isoformat()
        return x

    path = out / "report.json"
    path.write_text(json.dumps(clean(report), indent=2, ensure_ascii=False), encoding="utf-8")
    return path
