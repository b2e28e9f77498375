from PIL import Image

from visenv.cli import main


def test_list_prints_every_id(capsys):
    import visenv

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(env_id in out for env_id in visenv.registered_ids())


def test_render_writes_an_episode_gif(tmp_path, capsys):
    out = tmp_path / "ep.gif"
    assert main(["render", "VisAttn/DQSSTN-Shapes-v0", "--policy", "oracle", "--out", str(out),
                 "--set", "obs_size=32"]) == 0  # fmt: skip
    with Image.open(out) as gif:
        assert gif.n_frames == 11  # the first view and one per step of T = 10
    assert "wrote 11 frames" in capsys.readouterr().out


def test_render_with_a_real_dataset_id(tmp_path, voc_root):
    out = tmp_path / "voc.gif"
    args = ["render", "VisAttn/DQSSTN-VOC-v0", "--policy", "random", "--out", str(out),
            "--set", f"root={voc_root}", "year=2007", "split=test", "obs_size=32"]  # fmt: skip
    assert main(args) == 0 and out.stat().st_size > 0


def test_bench_prints_a_table(capsys):
    assert main(["bench", "--envs", "2", "--seconds", "0.2", "--set", "obs_size=32"]) == 0
    assert "native steps/s" in capsys.readouterr().out
