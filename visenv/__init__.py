"""visenv: Gymnasium environments for visual attention, one MDP family per paper."""

__version__ = "0.1.0"
