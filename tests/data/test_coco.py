"""COCODetection on the real COCO val2017 subset, checked against the JSON read by hand."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from visenv.data import COCODetection, DatasetFormatError, DatasetNotFoundError

ANNOTATIONS = "annotations/instances_val2017.json"


@pytest.fixture(scope="module")
def raw(coco_root):
    return json.loads((coco_root / ANNOTATIONS).read_text())


@pytest.fixture(scope="module")
def dataset(coco_root):
    return COCODetection(coco_root)


def _kept(ann):
    return not ann["iscrowd"] and ann["bbox"][2] > 0 and ann["bbox"][3] > 0


def test_counts_match_an_independent_count_of_the_json(raw, dataset):
    per_image = Counter(ann["image_id"] for ann in raw["annotations"] if _kept(ann))
    assert len(dataset) == len(per_image)
    assert dataset.image_ids == tuple(sorted(per_image))
    for index, image_id in enumerate(dataset.image_ids):
        assert len(dataset.annotation(index)[0]) == per_image[image_id]
    crowd = sum(ann["iscrowd"] for ann in raw["annotations"])
    assert crowd > 0  # the subset has crowd boxes, so dropping them is tested
    assert sum(per_image.values()) == len(raw["annotations"]) - crowd


def test_classes_follow_category_ids(raw, dataset):
    categories = sorted(raw["categories"], key=lambda cat: cat["id"])
    assert dataset.classes == tuple(cat["name"] for cat in categories)
    assert dataset.category_ids == tuple(cat["id"] for cat in categories)
    assert len(dataset.classes) == 80


def test_boxes_are_converted_from_xywh(raw, dataset):
    index = 5
    image_id = dataset.image_ids[index]
    anns = [a for a in raw["annotations"] if a["image_id"] == image_id and _kept(a)]
    expected = []
    for ann in anns:
        x, y, w, h = ann["bbox"]
        expected.append((x, y, x + w, y + h, dataset.category_ids.index(ann["category_id"])))
    boxes, labels, difficult = dataset.annotation(index)
    got = sorted((*box, label) for box, label in zip(boxes.tolist(), labels.tolist(), strict=True))
    np.testing.assert_allclose(got, sorted(expected), atol=1e-3)
    assert not difficult.any()


def test_scene_image_has_the_json_size(raw, dataset):
    scene = dataset[0]
    info = next(img for img in raw["images"] if img["id"] == dataset.image_ids[0])
    assert scene.image.shape == (info["height"], info["width"], 3)
    assert scene.image_id == str(info["id"]) and scene.extras["file_name"] == info["file_name"]
    assert (scene.boxes[:, 2] <= scene.width + 1e-3).all()


def test_construction_prints_nothing(coco_root, capsys):
    COCODetection(coco_root)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("kwargs", "valid"), [({"split": "test"}, ("train", "val")), ({"year": "2015"}, ("2014",))]
)
def test_unknown_split_or_year_lists_the_valid_values(tmp_path, kwargs, valid):
    with pytest.raises(ValueError, match="expected one of") as info:
        COCODetection(tmp_path, **kwargs)
    assert all(repr(v) in str(info.value) for v in valid)


def test_missing_root_names_path_layout_and_source(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetNotFoundError) as info:
        COCODetection(missing)
    message = str(info.value)
    assert str(missing) in message
    assert "annotations/instances_<split><year>.json" in message
    assert "https://cocodataset.org/#download" in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [("{not json", "not valid JSON"), ('{"images": []}', "not a COCO instances file")],
)
def test_malformed_json_raises_naming_the_file(tmp_path, content, problem):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "val2017").mkdir()
    path = tmp_path / "annotations" / "instances_val2017.json"
    path.write_text(content)
    with pytest.raises(DatasetFormatError, match=problem) as info:
        COCODetection(tmp_path)
    assert str(path) in str(info.value)
