"""Frames a person can read: one size per id, captions inside their bar, a legend per family."""

from __future__ import annotations

import cv2
import gymnasium as gym
import numpy as np
import pytest

import visenv
from tests.envs.harness import HARNESS_KWARGS
from visenv.data import DatasetNotFoundError
from visenv.render import (
    LegendEntry,
    caption_bar,
    compose_frame,
    legend,
    letterbox,
    save_gif,
    text_box,
)


@pytest.mark.parametrize("env_id", visenv.registered_ids())
def test_three_episodes_render_at_one_frame_size(env_id, tmp_path):
    """Every frame of an id has one size whatever the scene, so multi-episode GIFs and
    Gymnasium's RecordVideo work; a legend names every colour."""
    try:
        env = gym.make_vec(
            env_id, 1, vectorization_mode="vector_entry_point", render_mode="rgb_array",
            **HARNESS_KWARGS.get(env_id, {}),
        )  # fmt: skip
    except DatasetNotFoundError as err:
        pytest.skip(f"real data absent: {str(err).splitlines()[0]}")
    env.action_space.seed(0)
    frames = []
    for episode in range(3):
        env.reset(seed=episode)
        done = False
        while not done:
            frames.append(env.render()[0])
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = bool(terminated[0] or truncated[0])
        frames.append(env.render()[0])
    sizes = {f.shape for f in frames}
    assert len(sizes) == 1, f"{env_id} frames of sizes {sizes}"
    assert all(f.dtype == np.uint8 for f in frames)
    entries = legend(env)
    assert entries and all(e.meaning and e.name for e in entries)
    save_gif(frames, tmp_path / "episodes.gif")


def test_long_captions_shrink_or_shorten_inside_their_bar():
    width = 200
    for text in ("short", "a caption of exactly forty-one characters", "x" * 300):
        bar = caption_bar(width, [text])
        assert bar.shape == (18, width, 3)
        ink = np.flatnonzero(bar.max(axis=(0, 2)))
        assert ink.max() < width - 2, f"{text!r} reaches column {ink.max()} of {width}"
        assert ink.min() >= 2


def test_text_is_drawn_once_white_on_black():
    """No outline pass: the old black-outline + white-fill captions advanced differently
    under OpenCV 5 and double-printed. Every inked pixel of a caption is grey (R = G = B)."""
    bar = caption_bar(300, ["t=3 IoU=0.42 a long caption of thirty-one"])
    ink = bar[bar.max(axis=2) > 0]
    assert len(ink) and (ink[:, 0] == ink[:, 1]).all() and (ink[:, 1] == ink[:, 2]).all()


def test_text_box_stays_inside_the_image_at_the_edge():
    image = np.full((40, 60, 3), 128, np.uint8)
    text_box(image, "a label much longer than the image", (50, 35))
    assert image.shape == (40, 60, 3)
    # the box was moved back inside: its black background touches no more than the image
    assert (image == 0).all(axis=2).any()


def test_letterbox_keeps_the_aspect_and_maps_boxes():
    image = np.zeros((100, 200, 3), np.uint8)
    image[25:75, 50:150] = 255  # a box in the middle
    panel, fit = letterbox(image, side=256)
    assert panel.shape == (256, 256, 3) and fit.scale == pytest.approx(1.28)
    x1, y1, _, _ = fit.boxes(np.array([50, 25, 150, 75]))
    assert panel[round(y1) + 2, round(x1) + 2].max() == 255
    assert panel[round(y1) - 2, round(x1) - 2].max() == 0
    assert fit.area == pytest.approx((0, 64, 256, 192))


def test_compose_frame_refuses_panels_of_different_sizes():
    with pytest.raises(ValueError, match="panels must all be"):
        compose_frame([np.zeros((8, 8, 3), np.uint8), np.zeros((9, 9, 3), np.uint8)], [], [])


def test_save_gif_refuses_frames_of_different_sizes(tmp_path):
    frames = [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8)]
    with pytest.raises(ValueError, match="one size"):
        save_gif(frames, tmp_path / "x.gif")


def test_legend_bar_height_depends_only_on_the_entries():
    from visenv.render import legend_bar

    a = legend_bar(300, [LegendEntry((255, 0, 0), "one"), LegendEntry((0, 255, 0), "two")])
    b = legend_bar(300, [LegendEntry((255, 0, 0), "x" * 200), LegendEntry((0, 255, 0), "")])
    assert a.shape == b.shape == (36, 300, 3)
    assert cv2.getTextSize("one", cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)[0][0] < 300
