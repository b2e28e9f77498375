"""One module per paper: ``<Task>VectorEnv`` (native batched) and ``<Task>Env`` (single)."""

from visenv.envs.bgcut import BGCutEnv, BGCutVectorEnv
from visenv.envs.dqsstn import DQSSTNEnv, DQSSTNVectorEnv
from visenv.envs.hsal import HSALEnv, HSALVectorEnv
from visenv.envs.rarl import RARLEnv, RARLVectorEnv
from visenv.envs.unifiedattn import UnifiedAttnEnv, UnifiedAttnVectorEnv

__all__ = [
    "BGCutEnv",
    "BGCutVectorEnv",
    "DQSSTNEnv",
    "DQSSTNVectorEnv",
    "HSALEnv",
    "HSALVectorEnv",
    "RARLEnv",
    "RARLVectorEnv",
    "UnifiedAttnEnv",
    "UnifiedAttnVectorEnv",
]
