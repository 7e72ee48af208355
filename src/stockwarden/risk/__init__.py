"""Stockout risk: inventory position, Monte Carlo projection, policy levels, alert levels, reasons, backtest.

Public entry points: :func:`assess_risk` (one date) and :func:`run_backtest` (past checkpoints).
"""

from stockwarden.risk.assess import EXTRA_COLUMNS, assess_risk, sort_by_urgency
from stockwarden.risk.backtest import checkpoints, realised_stockouts, run_backtest
from stockwarden.risk.coverage import CoverageResult, OpenSupply, project_stock
from stockwarden.risk.learned import LearnedRiskModel
from stockwarden.risk.policy import normal_safety_stock, simulated_policy
from stockwarden.risk.position import compute_positions, open_purchase_orders

__all__ = [
    "EXTRA_COLUMNS",
    "CoverageResult",
    "LearnedRiskModel",
    "OpenSupply",
    "assess_risk",
    "checkpoints",
    "compute_positions",
    "normal_safety_stock",
    "open_purchase_orders",
    "project_stock",
    "realised_stockouts",
    "run_backtest",
    "simulated_policy",
    "sort_by_urgency",
]
