"""The recurrent attention model (RAM, Mnih et al. 2014), the UnifiedAttn paper's baseline, as a
torch agent that trains on the native batched ``VisAttn/RAM-*`` envs.

The network follows Mnih et al.: a glimpse network (``relu(W [relu(W_g x), relu(W_l l)])``), a
recurrent core, a location network emitting the mean of a fixed-variance Gaussian, a classifier
and a reward baseline read from the core state. Training is the paper's hybrid loss: the
classifier by cross-entropy on the episode's label (``info["target"]``), the locations by
REINFORCE on the env's reward (1 if the prediction after the last glimpse is right) less the
learned baseline, the baseline by squared error. Choices Mnih et al. leave to the reader, made
here: a GRU core (their MNIST core is a plain RNN; a GRU trains faster on a CPU budget), Adam,
and a location standard deviation of 0.15.

Usage::

    from agents.ram import RAMConfig, train_ram
    agent, log = train_ram(RAMConfig(seconds=60))
    policy = agent.policy()  # policy(obs, info) -> actions, for visenv.evaluation
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from visenv.envs.unifiedattn import Phase, UnifiedAttnVectorEnv

__all__ = ["RAMAgent", "RAMConfig", "RAMNetwork", "RAMPolicy", "train_ram"]


@dataclass
class RAMConfig:
    """Hyper-parameters of :func:`train_ram`."""

    env_id: str = "VisAttn/RAM-MNIST-v0"
    """A ``levels=0`` UnifiedAttn id (``VisAttn/RAM-*``)."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Arguments of the env (e.g. ``dataset="rendered"`` for the embedded digits)."""
    n_envs: int = 64
    """Episodes per update, stepped together in the native batched env."""
    episodes: int = 120_000
    """Training episodes in total (40 s on 2 CPU cores for ``VisAttn/RAM-MNIST-v0``)."""
    seconds: float | None = None
    """Wall-clock budget; training stops at whichever of ``episodes`` and this comes first."""
    hidden: int = 256
    """Core state size (Mnih et al.: 256)."""
    glimpse_hidden: int = 128
    """Size of each of the glimpse network's two parts (Mnih et al.: 128)."""
    location_std: float = 0.15
    """Standard deviation of the Gaussian location policy, in ``[-1, 1]`` units."""
    learning_rate: float = 1e-3
    """Adam step size."""
    seed: int = 0
    """Seed of the env and the network."""


class RAMNetwork(nn.Module):
    """Glimpse network, GRU core, location / classifier / baseline heads.

    Args:
        glimpse_shape: One observation glimpse, ``(m, g, g, C)``.
        num_labels: Classes.
        hidden: Core state size.
        glimpse_hidden: Size of each half of the glimpse feature.
    """

    def __init__(
        self, glimpse_shape: tuple[int, ...], num_labels: int, hidden: int, glimpse_hidden: int
    ) -> None:
        super().__init__()
        self.hidden = hidden
        self.what = nn.Sequential(nn.Linear(math.prod(glimpse_shape), glimpse_hidden), nn.ReLU())
        self.where = nn.Sequential(nn.Linear(2, glimpse_hidden), nn.ReLU())
        self.merge = nn.Sequential(nn.Linear(2 * glimpse_hidden, hidden), nn.ReLU())
        self.core = nn.GRUCell(hidden, hidden)
        self.locator = nn.Linear(hidden, 2)
        self.classifier = nn.Linear(hidden, num_labels)
        self.baseline = nn.Linear(hidden, 1)

    def initial_state(self, n: int) -> torch.Tensor:
        return torch.zeros(n, self.hidden)

    def forward(
        self, glimpse: torch.Tensor, location: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One glimpse: ``uint8 [N, m, g, g, C]``, ``[N, 2]``, ``[N, hidden]`` -> the new
        state, the next location's mean ``[N, 2]``, label logits and the baseline ``[N]``."""
        x = glimpse.reshape(len(glimpse), -1).float() / 255.0
        feature = self.merge(torch.cat([self.what(x), self.where(location)], dim=1))
        state = self.core(feature, state)
        # the location and baseline heads read a detached state: REINFORCE's noisy gradient
        # trains the location head only, and the core learns from the classification loss
        fixed = state.detach()
        mean = torch.tanh(self.locator(fixed))
        return state, mean, self.classifier(state), self.baseline(fixed)[:, 0]


def _ram_env(env: gym.vector.VectorEnv) -> UnifiedAttnVectorEnv:
    inner = env.unwrapped
    if not isinstance(inner, UnifiedAttnVectorEnv):
        raise TypeError(f"RAM drives a UnifiedAttnVectorEnv, got {type(inner).__name__}")
    if inner.params.levels != 0 or inner.params.max_labels != 1:
        raise ValueError(
            "RAM drives the bottom-up part alone on single-label images: expected levels=0 and "
            f"one label (the VisAttn/RAM-* ids), got levels={inner.params.levels}, "
            f"max_labels={inner.params.max_labels}"
        )
    if inner.action_format != "dict":
        raise ValueError(f"RAM acts in the 'dict' action format, got {inner.action_format!r}")
    return inner


class RAMAgent:
    """A :class:`RAMNetwork` sized for ``env`` (a ``levels=0`` UnifiedAttn vector env)."""

    def __init__(self, env: gym.vector.VectorEnv, config: RAMConfig | None = None) -> None:
        self.config = config or RAMConfig()
        inner = _ram_env(env)
        torch.manual_seed(self.config.seed)
        self.network = RAMNetwork(
            inner.single_observation_space["glimpse"].shape,
            inner.params.num_labels,
            self.config.hidden,
            self.config.glimpse_hidden,
        )

    def policy(self, deterministic: bool = True) -> RAMPolicy:
        """A batch policy ``policy(obs, info) -> actions`` (the core state lives inside)."""
        return RAMPolicy(self.network, self.config.location_std, deterministic)


class RAMPolicy:
    """Steps a :class:`RAMNetwork` through episodes of a ``levels=0`` UnifiedAttn vector env.

    The core state of an env restarts when its observation holds the episode's first glimpse
    (``info["num_glimpses"] == 1``). Locations are the network's means (``deterministic``) or
    Gaussian samples clipped to ``[-1, 1]``; the label is the classifier's argmax.
    """

    def __init__(self, network: RAMNetwork, std: float, deterministic: bool = True) -> None:
        self.network, self.std, self.deterministic = network, std, deterministic
        self.state: torch.Tensor | None = None

    @torch.no_grad()
    def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, np.ndarray]:
        glimpse = torch.as_tensor(np.asarray(obs["glimpse"]))
        location = torch.as_tensor(np.asarray(obs["location"]), dtype=torch.float32)
        n = len(glimpse)
        if self.state is None or len(self.state) != n:
            self.state = self.network.initial_state(n)
        first = torch.as_tensor(np.asarray(info["num_glimpses"]) == 1)
        self.state[first] = 0.0
        self.state, mean, logits, _ = self.network(glimpse, location, self.state)
        if not self.deterministic:
            mean = mean + self.std * torch.randn_like(mean)
        return {
            "location": mean.clamp(-1.0, 1.0).numpy().astype(np.float32),
            "label": logits.argmax(1).numpy(),
        }


def train_ram(
    config: RAMConfig, env: gym.vector.VectorEnv | None = None, progress: bool = False
) -> tuple[RAMAgent, list[dict[str, float]]]:
    """Train RAM with the hybrid loss on ``config.env_id`` (or ``env``) through the native env.

    Every update runs ``n_envs`` whole episodes side by side (all episodes of a RAM env have
    ``T`` steps, so they start and end together), then takes one Adam step.

    Returns:
        The agent and a log, one entry per update: ``episodes``, ``seconds``, ``accuracy``
        (the batch's reward), ``loss``.
    """
    if env is None:
        env = gym.make_vec(
            config.env_id,
            num_envs=config.n_envs,
            vectorization_mode="vector_entry_point",
            **config.env_kwargs,
        )
    inner = _ram_env(env)
    agent = RAMAgent(env, config)
    net = agent.network
    optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    n, steps = inner.num_envs, inner.params.num_glimpses
    log: list[dict[str, float]] = []
    start, done = time.perf_counter(), 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.episodes, desc="RAM training", unit="episode")
    obs, info = inner.reset(seed=config.seed)
    while done < config.episodes:
        if config.seconds is not None and time.perf_counter() - start > config.seconds:
            break
        state = net.initial_state(n)
        log_probs, baselines = [], []
        for t in range(steps):
            glimpse = torch.as_tensor(obs["glimpse"])
            location = torch.as_tensor(obs["location"], dtype=torch.float32)
            state, mean, logits, baseline = net(glimpse, location, state)
            baselines.append(baseline)
            if t < steps - 1:
                sample = (mean.detach() + config.location_std * torch.randn_like(mean)).clamp(
                    -1.0, 1.0
                )
                gaussian = torch.distributions.Normal(mean, config.location_std)
                log_probs.append(gaussian.log_prob(sample).sum(1))
                action = {"location": sample.numpy(), "label": np.zeros(n, dtype=np.int64)}
            else:
                if not (obs["phase"] == Phase.PREDICT).all():
                    raise RuntimeError(f"expected the predict phase at step {t}: {obs['phase']}")
                label = logits.argmax(1)
                action = {"location": np.zeros((n, 2), np.float32), "label": label.numpy()}
                target = torch.as_tensor(info["target"][:, 0], dtype=torch.int64)
            obs, reward, terminated, _, info = inner.step(action)
        if not terminated.all():
            raise RuntimeError(f"a RAM episode lasts {steps} steps; some envs went on")
        reward_t = torch.as_tensor(reward, dtype=torch.float32)
        baseline_t = torch.stack(baselines[:-1], 1)  # [N, T - 1]: one per location decision
        advantage = (reward_t[:, None] - baseline_t).detach()
        reinforce = -(torch.stack(log_probs, 1) * advantage).sum(1).mean()
        loss = (
            nn.functional.cross_entropy(logits, target)
            + reinforce
            + ((reward_t[:, None] - baseline_t) ** 2).mean()
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        obs, info = inner.reset()  # the next images, whatever the autoreset mode
        done += n
        log.append(
            {
                "episodes": done,
                "seconds": time.perf_counter() - start,
                "accuracy": float(reward_t.mean()),
                "loss": float(loss.detach()),
            }
        )
        if bar is not None:
            bar.update(n)
            bar.set_postfix(accuracy=f"{np.mean([e['accuracy'] for e in log[-20:]]):.3f}")
    if bar is not None:
        bar.close()
    return agent, log
