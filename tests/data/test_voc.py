"""VOCDetection on the real VOC-layout data (built from the COCO subset) and on tiny tmp trees."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from visenv.data import DatasetFormatError, DatasetNotFoundError, VOCDetection
from visenv.data.coco import COCODetection
from visenv.data.voc import VOC_CLASSES

# How the shared voc/ set renamed COCO's categories (see shared/data/MANIFEST.md).
VOC_TO_COCO_NAME = {
    "aeroplane": "airplane",
    "motorbike": "motorcycle",
    "diningtable": "dining table",
    "pottedplant": "potted plant",
    "sofa": "couch",
    "tvmonitor": "tv",
}

OBJECT = (
    "<object><name>{name}</name><difficult>{difficult}</difficult>"
    "<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox>"
    "</object>"
)


def _xml(*objects: str) -> str:
    size = "<size><width>16</width><height>12</height></size>"
    return f"<annotation>{size}{''.join(objects)}</annotation>"


def make_voc_tree(
    root: Path, annotations: dict[str, str], split: str = "train", year: str = "2007"
) -> Path:
    """A VOCdevkit/VOC<year> tree under ``root`` with one 12x16 JPEG and one XML per id."""
    year_dir = root / "VOCdevkit" / f"VOC{year}"
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (year_dir / sub).mkdir(parents=True, exist_ok=True)
    for image_id, xml in annotations.items():
        (year_dir / "Annotations" / f"{image_id}.xml").write_text(xml)
        image = np.zeros((12, 16, 3), np.uint8)
        image[..., 2] = 255  # pure red in OpenCV's BGR order
        cv2.imwrite(str(year_dir / "JPEGImages" / f"{image_id}.jpg"), image)
    (year_dir / "ImageSets" / "Main" / f"{split}.txt").write_text("\n".join(annotations) + "\n")
    return root


# --- real data ---------------------------------------------------------------------------


def test_split_sizes_come_from_the_lists(voc_root):
    assert len(VOCDetection(voc_root, split="test")) == 26
    assert len(VOCDetection(voc_root, split="trainval")) == 38


def test_scenes_decode_as_rgb_with_valid_boxes(voc_root):
    dataset = VOCDetection(voc_root, split="test")
    for index in (0, len(dataset) - 1):
        scene = dataset[index]
        path = voc_root / "VOCdevkit" / "VOC2007" / "JPEGImages" / f"{scene.image_id}.jpg"
        np.testing.assert_array_equal(scene.image, cv2.imread(str(path))[..., ::-1])
        assert scene.extras["year"] == "2007"
        assert len(scene.boxes) > 0 and not scene.difficult.any()
        assert (scene.boxes[:, :2] >= 0).all()
        assert (scene.boxes[:, 2] <= scene.width).all() and (
            scene.boxes[:, 3] <= scene.height
        ).all()
        assert (scene.boxes[:, 2:] > scene.boxes[:, :2]).all()


def test_boxes_match_the_coco_boxes_they_were_made_from(voc_root, coco_root):
    """VOC's 1-based inclusive corners, converted, land within 1 px of COCO's [x, y, w, h]."""
    coco = COCODetection(coco_root)
    coco_index = {image_id: i for i, image_id in enumerate(coco.image_ids)}
    errors = []
    for split in ("test", "trainval"):
        voc = VOCDetection(voc_root, split=split)
        for index in range(len(voc)):
            boxes, labels, _ = voc.annotation(index)
            coco_boxes, coco_labels, _ = coco.annotation(coco_index[int(voc.image_ids[index])])
            coco_names = np.array(coco.classes)[coco_labels]
            for box, label in zip(boxes, labels, strict=True):
                name = VOC_CLASSES[label]
                same_class = coco_boxes[coco_names == VOC_TO_COCO_NAME.get(name, name)]
                errors.append(np.abs(same_class - box).max(axis=1).min())
    errors = np.array(errors)
    assert len(errors) > 100
    assert errors.max() <= 1.0
    # Rounding leaves about 0.25 px on average; a conversion off by one pixel would not.
    assert errors.mean() < 0.5


def test_2007_alone_works_and_2007_plus_2012_names_the_missing_year(voc_root):
    assert len(VOCDetection(voc_root, year="2007", split="trainval")) == 38
    with pytest.raises(DatasetNotFoundError) as info:
        VOCDetection(voc_root, year="2007+2012", split="trainval")
    assert str(voc_root / "VOCdevkit" / "VOC2012") in str(info.value)


def test_annotation_matches_the_decoded_scene(voc_root):
    dataset = VOCDetection(voc_root, split="test")
    boxes, labels, difficult = dataset.annotation(3)
    scene = dataset[3]
    np.testing.assert_array_equal(boxes, scene.boxes)
    np.testing.assert_array_equal(labels, scene.labels)
    np.testing.assert_array_equal(difficult, scene.difficult)
    with pytest.raises(IndexError):
        dataset.annotation(len(dataset))


# --- arguments and errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "valid"),
    [({"year": "2010"}, ("2007", "2012", "2007+2012")), ({"split": "dev"}, ("train", "test"))],
)
def test_unknown_year_or_split_lists_the_valid_values(tmp_path, kwargs, valid):
    with pytest.raises(ValueError, match="expected one of") as info:
        VOCDetection(tmp_path, **kwargs)
    assert all(repr(v) in str(info.value) for v in valid)


@pytest.mark.parametrize("year", ["2012", "2007+2012"])
def test_voc2012_test_split_is_refused_with_the_val_protocol(tmp_path, year):
    with pytest.raises(ValueError, match="no public test") as info:
        VOCDetection(tmp_path, year=year, split="test")
    assert 'split="val"' in str(info.value)


def test_missing_root_names_path_layout_and_source(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetNotFoundError) as info:
        VOCDetection(missing)
    message = str(info.value)
    assert str(missing) in message
    assert "VOCdevkit/VOC<year>" in message and "ImageSets/Main/<split>.txt" in message
    assert "http://host.robots.ox.ac.uk/pascal/VOC/" in message


def test_conversion_and_difficult_flag_on_a_written_file(tmp_path):
    xml = _xml(
        OBJECT.format(name="dog", difficult=0, x1=1, y1=2, x2=16, y2=12),
        OBJECT.format(name="tvmonitor", difficult=1, x1=3, y1=3, x2=3, y2=4),
    )
    scene = VOCDetection(make_voc_tree(tmp_path, {"000001": xml}), split="train")[0]
    np.testing.assert_array_equal(scene.boxes, [[0, 1, 16, 12], [2, 2, 3, 4]])
    assert [VOC_CLASSES[i] for i in scene.labels] == ["dog", "tvmonitor"]
    assert scene.difficult.tolist() == [False, True]
    assert scene.image_id == "000001" and scene.image.shape == (12, 16, 3)
    assert scene.image[6, 8, 0] > 200 and scene.image[6, 8, 2] < 50  # red stays red (RGB)


def test_2007_plus_2012_concatenates_the_years_lists(tmp_path):
    cat = _xml(OBJECT.format(name="cat", difficult=0, x1=1, y1=1, x2=4, y2=4))
    dog = _xml(OBJECT.format(name="dog", difficult=0, x1=1, y1=1, x2=4, y2=4))
    make_voc_tree(tmp_path, {"000005": cat, "000007": cat}, split="val", year="2007")
    make_voc_tree(tmp_path, {"2008_000002": dog}, split="val", year="2012")
    dataset = VOCDetection(tmp_path, year="2007+2012", split="val")
    scenes = list(dataset)
    assert [s.image_id for s in scenes] == ["000005", "000007", "2008_000002"]
    assert [s.extras["year"] for s in scenes] == ["2007", "2007", "2012"]
    assert [VOC_CLASSES[s.labels[0]] for s in scenes] == ["cat", "cat", "dog"]
    assert len(VOCDetection(tmp_path, year="2012", split="val")) == 1


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        ("<annotation><object><name>dog</name>", "not valid XML"),
        (_xml("<object><name>dog</name></object>"), "no <bndbox>"),
        (_xml(OBJECT.format(name="dragon", difficult=0, x1=1, y1=1, x2=2, y2=2)), "dragon"),
        (_xml(OBJECT.format(name="cat", difficult=0, x1="a", y1=1, x2=2, y2=2)), "non-numeric"),
        (_xml(OBJECT.format(name="cat", difficult=0, x1=5, y1=1, x2=2, y2=2)), "inverted"),
    ],
)
def test_malformed_xml_raises_naming_the_file(tmp_path, xml, problem):
    good = _xml(OBJECT.format(name="cat", difficult=0, x1=1, y1=1, x2=4, y2=4))
    dataset = VOCDetection(make_voc_tree(tmp_path, {"good": good, "bad": xml}), split="train")
    assert len(dataset[0].boxes) == 1  # construction and good items are unaffected
    with pytest.raises(DatasetFormatError, match=problem) as info:
        dataset[1]
    assert str(tmp_path / "VOCdevkit" / "VOC2007" / "Annotations" / "bad.xml") in str(info.value)


def test_missing_or_corrupt_image_raises_naming_the_file(tmp_path):
    good = _xml(OBJECT.format(name="cat", difficult=0, x1=1, y1=1, x2=4, y2=4))
    root = make_voc_tree(tmp_path, {"a": good, "b": good})
    images = root / "VOCdevkit" / "VOC2007" / "JPEGImages"
    (images / "a.jpg").unlink()
    (images / "b.jpg").write_bytes(b"not a jpeg")
    dataset = VOCDetection(root, split="train")
    assert len(dataset.annotation(0)[0]) == 1  # annotations need no image
    with pytest.raises(DatasetFormatError, match="missing") as info:
        dataset[0]
    assert str(images / "a.jpg") in str(info.value)
    with pytest.raises(DatasetFormatError, match="cannot be decoded") as info:
        dataset[1]
    assert str(images / "b.jpg") in str(info.value)
