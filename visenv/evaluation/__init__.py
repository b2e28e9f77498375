"""Run a policy over a split and report each paper's metrics (one module per env family)."""

from visenv.evaluation.dqsstn import DQSSTNReport, evaluate_dqsstn

__all__ = ["DQSSTNReport", "evaluate_dqsstn"]
