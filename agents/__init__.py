"""Agents for visenv: baseline policies (random, oracle), stable-baselines3 set-ups and custom
torch agents. Depends on visenv; visenv never imports agents except from its CLI."""
