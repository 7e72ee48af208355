"""Merge ``benchmarks/closed_loop.py --knobs`` runs of one variant into one curve and compare it (issue 14).

Usage: python benchmarks/closed_loop_merge.py DIR DIR [...] --policy stockwarden_auto [--knob 0.92] [--out FILE.json]

Each ``DIR/summary.csv`` holds the baselines and some service levels of the variant. Runs are deterministic, so
the baselines must be identical in every folder (checked; a difference is an error). The variant's rows are
joined, and :func:`stockwarden.simulate.compare.compare_policies` reads the merged curves at ``--knob``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from stockwarden.simulate.compare import compare_policies


def merge(dirs: list[Path], policy: str) -> pd.DataFrame:
    """The baselines of the first folder with every folder's ``policy`` rows (one per knob)."""
    frames = [pd.read_csv(d / "summary.csv") for d in dirs]
    base = frames[0].loc[~frames[0]["policy"].astype(str).str.startswith("stockwarden")].reset_index(drop=True)
    for d, f in zip(dirs[1:], frames[1:], strict=True):
        other = f.loc[~f["policy"].astype(str).str.startswith("stockwarden")].reset_index(drop=True)
        if not base.equals(other):
            raise SystemExit(f"the baselines in {d} differ from those in {dirs[0]}: not the same world")
    mine = pd.concat([f.loc[f["policy"] == policy] for f in frames]).drop_duplicates(["policy", "knob"])
    if mine.empty:
        raise SystemExit(f"no {policy} rows in {', '.join(map(str, dirs))}")
    return pd.concat([base, mine.sort_values("knob")], ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--knob", type=float, default=0.92)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    summary = merge(args.dirs, args.policy)
    print(summary.loc[summary["policy"] == args.policy].to_string(index=False))
    cmp = compare_policies(summary, ours=args.policy, knob=args.knob)
    print(json.dumps(cmp, indent=1, default=float))
    if args.out is not None:
        out = {"policy": args.policy, "dirs": [str(d) for d in args.dirs], "comparison": cmp}
        out["summary"] = summary.to_dict(orient="records")
        args.out.write_text(json.dumps(out, indent=2, default=float))
        print(f"written {args.out}")


if __name__ == "__main__":
    main()
