from visenv.data import load_dataset
from visenv.models._cache import dataset_fingerprint


def test_fingerprint_resolves_the_root(voc_root, monkeypatch):
    monkeypatch.setenv("VISENV_DATA", str(voc_root.parent))
    implicit = load_dataset("voc", year="2007", split="test")
    explicit = load_dataset("voc", root=str(voc_root), year="2007", split="test")
    assert dataset_fingerprint(implicit) == dataset_fingerprint(explicit)
    assert dataset_fingerprint(implicit) != dataset_fingerprint(
        load_dataset("voc", year="2007", split="trainval")
    )


def test_shipped_shapes_fingerprint_is_stable():
    # the shipped weights' file names carry this fingerprint; changing it orphans them
    assert dataset_fingerprint(load_dataset("shapes", split="train")) == "09fa3df6b6d9"
