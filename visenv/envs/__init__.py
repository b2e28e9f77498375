"""One module per paper: ``<Task>VectorEnv`` (native batched) and ``<Task>Env`` (single)."""

from visenv.envs.dqsstn import DQSSTNEnv, DQSSTNVectorEnv
from visenv.envs.hsal import HSALEnv, HSALVectorEnv

__all__ = ["DQSSTNEnv", "DQSSTNVectorEnv", "HSALEnv", "HSALVectorEnv"]
