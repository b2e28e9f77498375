"""DQN on a visenv env with stable-baselines3, set up as in DQ-SSTN (sec. 4.1.2) but sized for
a CPU: the paper's ResNet18 Q-network becomes SB3's Nature CNN on smaller views.

Usage::

    from agents.dqn import DQNConfig, train_dqn
    model = train_dqn(DQNConfig(total_timesteps=20_000))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from stable_baselines3 import DQN
from stable_baselines3.common.callbacks import BaseCallback
from tqdm.auto import tqdm

from agents.sb3 import make_sb3_vec_env

__all__ = ["DQNConfig", "TqdmCallback", "train_dqn"]


@dataclass
class DQNConfig:
    """Hyper-parameters of :func:`train_dqn`."""

    env_id: str = "VisAttn/DQSSTN-Shapes-v0"
    """Environment to train on."""
    env_kwargs: dict[str, Any] = field(default_factory=lambda: {"obs_size": 84})
    """Arguments of the env (84 px views keep a CPU run short; the paper uses 224)."""
    n_envs: int = 8
    """Envs stepped together in the native batched env."""
    total_timesteps: int = 20_000
    """Environment steps in total (all envs)."""
    learning_rate: float = 2e-4
    """Adam step size (the paper's 5e-6 is for a pre-trained ResNet18 over 50 epochs)."""
    buffer_size: int = 20_000
    """Replay memory in transitions (the paper's is 1000)."""
    learning_starts: int = 1_000
    """Transitions collected before the first update."""
    batch_size: int = 32
    """Transitions per update."""
    gamma: float = 0.95
    """Discount (the paper's value)."""
    target_update_interval: int = 1_000
    """Environment steps between target-network copies."""
    exploration_fraction: float = 0.4
    """Fraction of training over which epsilon decays to its final value."""
    exploration_final_eps: float = 0.05
    """Final epsilon (the paper's eps_end)."""
    train_freq: int = 1
    """Batched env steps between updates."""
    seed: int = 0
    """Seed of the env and the agent."""


class TqdmCallback(BaseCallback):
    """A plain tqdm progress bar over environment steps."""

    def __init__(self, total: int, desc: str = "training") -> None:
        super().__init__()
        self.total, self.desc = total, desc
        self.bar: tqdm | None = None

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total, desc=self.desc, unit="step")

    def _on_step(self) -> bool:
        assert self.bar is not None
        self.bar.update(self.training_env.num_envs)
        return True

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.close()


def train_dqn(config: DQNConfig, progress: bool = False) -> DQN:
    """Train SB3's DQN (``CnnPolicy``) on ``config.env_id`` through the native vector env."""
    venv = make_sb3_vec_env(config.env_id, config.n_envs, config.seed, **config.env_kwargs)
    hyper = {
        k: v
        for k, v in asdict(config).items()
        if k not in ("env_id", "env_kwargs", "n_envs", "total_timesteps")
    }
    model = DQN("CnnPolicy", venv, verbose=0, **hyper)
    callback = TqdmCallback(config.total_timesteps) if progress else None
    model.learn(config.total_timesteps, callback=callback)
    return model
