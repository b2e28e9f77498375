"""Run a policy over a split and report each paper's metrics (one module per env family)."""

from visenv.evaluation.bgcut import BGCutReport, evaluate_bgcut
from visenv.evaluation.dqsstn import DQSSTNReport, evaluate_dqsstn
from visenv.evaluation.hsal import HSALReport, evaluate_hsal
from visenv.evaluation.rarl import RARLReport, evaluate_rarl
from visenv.evaluation.unifiedattn import UnifiedAttnReport, evaluate_unifiedattn

__all__ = [
    "BGCutReport",
    "DQSSTNReport",
    "HSALReport",
    "RARLReport",
    "UnifiedAttnReport",
    "evaluate_bgcut",
    "evaluate_dqsstn",
    "evaluate_hsal",
    "evaluate_rarl",
    "evaluate_unifiedattn",
]
