"""The ``visenv`` command: list ids, run the demo, render episodes, measure throughput."""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]

DEMO_ENV = "VisAttn/DQSSTN-Shapes-v0"


def _env_kwargs(pairs: list[str]) -> dict[str, Any]:
    """``["obs_size=84", "split=test"]`` -> ``{"obs_size": 84, "split": "test"}``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"--set expects key=value, got {pair!r}")
        key, raw = pair.split("=", 1)
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def cmd_list(args: argparse.Namespace) -> int:
    import gymnasium as gym

    import visenv

    width = max(len(i) for i in visenv.registered_ids())
    print(f"{'id':<{width}}  default arguments")
    for env_id in visenv.registered_ids():
        spec = gym.spec(env_id)
        print(f"{env_id:<{width}}  {json.dumps(spec.kwargs)}")
    return 0


def _episode_frames(env: Any, policy: Any, seed: int) -> list[np.ndarray]:
    obs, info = env.reset(seed=seed)
    frames = [env.render()[0]]
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(policy(obs, info))
        frames.append(env.render()[0])
        done = bool(terminated[0] or truncated[0])
    return frames


def _load_policy(name: str, env: Any, seed: int) -> Any:
    from agents.policies import make_policy

    if name.endswith(".zip"):
        from stable_baselines3 import DQN

        model = DQN.load(name, device="cpu")
        return lambda obs, info: model.predict(obs, deterministic=True)[0]
    return make_policy(name, env, seed=seed)


def cmd_render(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode

    import visenv  # noqa: F401
    from visenv.render import save_gif

    env = gym.make_vec(
        args.env_id, num_envs=1, vectorization_mode="vector_entry_point",
        render_mode="rgb_array", autoreset_mode=AutoresetMode.NEXT_STEP, **_env_kwargs(args.set),
    )  # fmt: skip
    policy = _load_policy(args.policy, env, args.seed)
    frames: list[np.ndarray] = []
    for episode in range(args.episodes):
        frames += _episode_frames(env, policy, args.seed + episode)
    path = save_gif(frames, args.out, fps=args.fps)
    print(f"wrote {len(frames)} frames of {args.env_id} ({args.policy}) to {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from agents.demo import run_demo

    run_demo(
        steps=args.steps,
        n_envs=args.envs,
        seed=args.seed,
        gif=Path(args.out),
        episodes=args.eval_scenes,
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from visenv.benchmarking import env_rate

    print(f"{args.env_id}, obs 224x224, random actions, {args.seconds:.1f} s per measurement")
    print(f"{'num_envs':>8} {'native steps/s':>15} {'sync steps/s':>13} {'ratio':>6}")
    for n in args.envs:
        native = env_rate(
            args.env_id, n, "vector_entry_point", args.seconds, **_env_kwargs(args.set)
        )
        sync = env_rate(args.env_id, n, "sync", args.seconds, **_env_kwargs(args.set))
        print(f"{n:>8} {native:>15.0f} {sync:>13.0f} {native / sync:>6.2f}")
    print("full comparison (async, bare kernel, roi_align): python benchmarks/throughput.py")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="visenv", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list registered environment ids").set_defaults(func=cmd_list)

    demo = sub.add_parser("demo", help="train DQN briefly on the embedded Shapes scenes")
    demo.add_argument("--steps", type=int, default=20_000, help="training steps (all envs)")
    demo.add_argument("--envs", type=int, default=8, help="envs in the batch")
    demo.add_argument("--eval-scenes", type=int, default=256, help="test scenes to evaluate on")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="visenv-demo.gif", help="GIF of a trained episode")
    demo.set_defaults(func=cmd_demo)

    render = sub.add_parser("render", help="write an episode GIF for any id and policy")
    render.add_argument("env_id")
    render.add_argument("--policy", default="oracle", help="random, oracle or an SB3 DQN .zip")
    render.add_argument("--episodes", type=int, default=1)
    render.add_argument("--seed", type=int, default=0)
    render.add_argument("--fps", type=float, default=3.0)
    render.add_argument("--out", default="episode.gif")
    render.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="env arguments")
    render.set_defaults(func=cmd_render)

    bench = sub.add_parser("bench", help="native vs sync vector env steps per second")
    bench.add_argument("env_id", nargs="?", default=DEMO_ENV)
    bench.add_argument("--envs", type=int, nargs="+", default=[1, 8, 64])
    bench.add_argument("--seconds", type=float, default=2.0)
    bench.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="env arguments")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
