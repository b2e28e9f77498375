"""visenv: Gymnasium environments for visual attention, one MDP family per paper.

Importing visenv registers its environment ids with Gymnasium::

    import gymnasium as gym
    import visenv

    gym.register_envs(visenv)
    env = gym.make("VisAttn/DQSSTN-Shapes-v0")
"""

from visenv.envs import registration as _registration  # noqa: F401 - registers the ids

__version__ = "0.1.0"


def registered_ids() -> list[str]:
    """Every environment id visenv registers, sorted."""
    import gymnasium as gym

    return sorted(i for i in gym.registry if i.startswith("VisAttn/"))
