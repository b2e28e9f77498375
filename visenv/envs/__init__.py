"""One module per paper: ``<Task>VectorEnv`` (native batched) and ``<Task>Env`` (single)."""

from visenv.envs.dqsstn import DQSSTNEnv, DQSSTNVectorEnv

__all__ = ["DQSSTNEnv", "DQSSTNVectorEnv"]
