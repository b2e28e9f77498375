"""A small Q-network for any visenv observation, shared by the interop recipes.

visenv observations are either one array (DQ-SSTN's ``uint8 [H, W, 3]`` view) or a dict of
arrays (BG-Cut's ``features [C, h, w]`` float map and ``history`` vector, ...). The network
encodes each part by its kind (an HWC uint8 image or a CHW float map: a small ConvNet; anything
else: flattened), concatenates the codes and maps them to one value per action. It is sized by
one dry forward pass over a sample of the observation space, as SB3's ``NatureCNN`` is.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import nn

__all__ = ["QNetwork", "obs_parts"]


def obs_parts(space: gym.Space) -> dict[str, gym.spaces.Box]:
    """The single observation space as ``{key: Box}`` (a plain ``Box`` is ``"observation"``)."""
    if isinstance(space, gym.spaces.Dict):
        return dict(space.spaces)
    return {"observation": space}


def _is_hwc_image(space: gym.spaces.Box) -> bool:
    return space.dtype == np.uint8 and len(space.shape) == 3 and space.shape[-1] in (1, 3)


def _encoder(space: gym.spaces.Box) -> nn.Module:
    if len(space.shape) == 3:
        channels = space.shape[-1] if _is_hwc_image(space) else space.shape[0]
        return nn.Sequential(
            nn.Conv2d(channels, 16, 5, stride=2), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
        )  # fmt: skip
    return nn.Flatten()


class QNetwork(nn.Module):
    """``forward(*parts) -> [B, n_actions]``; parts in the order of :func:`obs_parts`.

    Args:
        observation_space: The env's single observation space (``Box`` or ``Dict`` of ``Box``).
        n_actions: Number of discrete actions.
        hidden: Width of the hidden layer.
    """

    def __init__(self, observation_space: gym.Space, n_actions: int, hidden: int = 128) -> None:
        super().__init__()
        self.parts = obs_parts(observation_space)
        self.keys = list(self.parts)
        self.encoders = nn.ModuleList(_encoder(s) for s in self.parts.values())
        with torch.no_grad():  # one dry pass sizes the head
            sample = [torch.as_tensor(s.sample()[None]) for s in self.parts.values()]
            width = self._encode(sample).shape[1]
        self.head = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, n_actions))

    def _encode(self, parts: list[torch.Tensor]) -> torch.Tensor:
        codes = []
        for space, encoder, x in zip(self.parts.values(), self.encoders, parts, strict=True):
            if _is_hwc_image(space):
                x = x.permute(*range(x.dim() - 3), -1, -3, -2).float() / 255.0
            codes.append(encoder(x.float()))
        return torch.cat(codes, dim=-1)

    def forward(self, *parts: torch.Tensor) -> torch.Tensor:
        return self.head(self._encode(list(parts)))
