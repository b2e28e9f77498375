"""Every environment id visenv registers, in one flat list.

``gym.make(id)`` builds the single env (``entry_point``); ``gym.make_vec(id, num_envs=N,
vectorization_mode="vector_entry_point")`` builds the native batched env. Dataset ids take
``root`` and ``split`` (and ``year`` for VOC); the defaults follow each paper.
"""

from gymnasium.envs.registration import register

# -- DQ-SSTN (paper 000): zoom and translate towards the salient object -----------------------
register(
    id="VisAttn/DQSSTN-Shapes-v0",
    entry_point="visenv.envs.dqsstn:DQSSTNEnv",
    vector_entry_point="visenv.envs.dqsstn:DQSSTNVectorEnv",
    kwargs={"dataset": "shapes", "split": "train"},
)
register(
    id="VisAttn/DQSSTN-VOC-v0",
    entry_point="visenv.envs.dqsstn:DQSSTNEnv",
    vector_entry_point="visenv.envs.dqsstn:DQSSTNVectorEnv",
    # the paper's training set: VOC2007 train + VOC2012 train (8218 images)
    kwargs={"dataset": "voc", "year": "2007+2012", "split": "train"},
)
register(
    id="VisAttn/DQSSTN-COCO-v0",
    entry_point="visenv.envs.dqsstn:DQSSTNEnv",
    vector_entry_point="visenv.envs.dqsstn:DQSSTNVectorEnv",
    kwargs={"dataset": "coco", "year": "2017", "split": "train"},
)

# -- HSAL (paper 001): saliency-guided hierarchical glimpses, multiset prediction ---------------
register(
    id="VisAttn/HSAL-MNISTSet-v0",
    entry_point="visenv.envs.hsal:HSALEnv",
    vector_entry_point="visenv.envs.hsal:HSALVectorEnv",
    kwargs={"dataset": "mnist_set", "split": "train"},
)
register(
    id="VisAttn/HSAL-MNISTMultiset-v0",
    entry_point="visenv.envs.hsal:HSALEnv",
    vector_entry_point="visenv.envs.hsal:HSALVectorEnv",
    kwargs={"dataset": "mnist_multiset", "split": "train"},
)
register(
    id="VisAttn/HSAL-SVHNMultiset-v0",
    entry_point="visenv.envs.hsal:HSALEnv",
    vector_entry_point="visenv.envs.hsal:HSALVectorEnv",
    kwargs={"dataset": "svhn_multiset", "split": "train"},
)
register(
    id="VisAttn/HSAL-DigitsMultiset-v0",  # the embedded default: digits rendered by visenv
    entry_point="visenv.envs.hsal:HSALEnv",
    vector_entry_point="visenv.envs.hsal:HSALVectorEnv",
    kwargs={"dataset": "digits_multiset", "split": "train"},
)

# -- UnifiedAttn (paper 002): top-down quad-tree picks, then RAM glimpses; levels=0 is RAM ------
# MNIST: 6 glimpses of 8x8, 1 scale (Table 1); cluttered 100x100 MNIST with 10 pieces of 8x8
# clutter: 6 glimpses of 12x12, 4 scales (Table 2); SVHN: 3 glimpses of 12x12, 2 scales per
# label, up to 5 digits and the terminal label (Table 3); CIFAR-10: 6 glimpses of 12x12 (sec. 5).
_MNIST = {"dataset": "mnist", "split": "train", "canvas": "plain", "num_glimpses": 6,
          "glimpse_size": 8, "num_scales": 1}  # fmt: skip
_CLUTTERED = {"canvas": "cluttered", "canvas_size": 100, "num_clutter": 10, "num_glimpses": 6,
              "glimpse_size": 12, "num_scales": 4}  # fmt: skip
register(
    id="VisAttn/RAM-MNIST-v0",
    entry_point="visenv.envs.unifiedattn:UnifiedAttnEnv",
    vector_entry_point="visenv.envs.unifiedattn:UnifiedAttnVectorEnv",
    kwargs={**_MNIST, "levels": 0},
)
register(
    id="VisAttn/RAM-ClutteredMNIST-v0",
    entry_point="visenv.envs.unifiedattn:UnifiedAttnEnv",
    vector_entry_point="visenv.envs.unifiedattn:UnifiedAttnVectorEnv",
    kwargs={"dataset": "mnist", "split": "train", **_CLUTTERED, "levels": 0},
)
register(
    id="VisAttn/UnifiedAttn-MNIST-v0",
    entry_point="visenv.envs.unifiedattn:UnifiedAttnEnv",
    vector_entry_point="visenv.envs.unifiedattn:UnifiedAttnVectorEnv",
    kwargs={**_MNIST, "levels": 2},
)
register(
    id="VisAttn/UnifiedAttn-ClutteredMNIST-v0",
    entry_point="visenv.envs.unifiedattn:UnifiedAttnEnv",
    vector_entry_point="visenv.envs.unifiedattn:UnifiedAttnVectorEnv",
    kwargs={"dataset": "mnist", "split": "train", **_CLUTTERED, "levels": 2},
)
register(
    id="VisAttn/UnifiedAttn-SVHN-v0",
    entry_point="visenv.envs.unifiedattn:UnifiedAttnEnv",
    vector_entry_point="visenv.envs.unifiedattn:UnifiedAttnVectorEnv",
    kwargs={
        "dataset": "svhn",
        "split": "train",
        "levels": 2,
        "num_glimpses": 3,
        "glimpse_size": 12,
        "num_scales": 2,
        "max_digits": 5,
    },
)
register(
    id="VisAttn/UnifiedAttn-CIFAR10-v0",
    entry_point="visenv.envs.unifiedattn:UnifiedAttnEnv",
    vector_entry_point="visenv.envs.unifiedattn:UnifiedAttnVectorEnv",
    kwargs={
        "dataset": "cifar10",
        "split": "train",
        "canvas": "plain",
        "levels": 2,
        "num_glimpses": 6,
        "glimpse_size": 12,
        "num_scales": 1,
    },
)
register(
    id="VisAttn/UnifiedAttn-ClutteredDigits-v0",
    entry_point="visenv.envs.unifiedattn:UnifiedAttnEnv",
    vector_entry_point="visenv.envs.unifiedattn:UnifiedAttnVectorEnv",
    # the embedded default: the same cluttered canvases from digits visenv draws itself
    kwargs={"dataset": "rendered", "split": "train", **_CLUTTERED, "levels": 2},
)

# -- RARL (paper 003): recurrent attention over 9 anchor regions of a feature map ---------------
# N = 512, T = 5, anchors 80/160/320 x 2:1, 1:1, 1:2 (Implementation details); trained on
# VOC2007 trainval, COCO train2014/2017 (Experiments). Shapes: the embedded default at N = 224.
register(
    id="VisAttn/RARL-VOC07-v0",
    entry_point="visenv.envs.rarl:RARLEnv",
    vector_entry_point="visenv.envs.rarl:RARLVectorEnv",
    kwargs={"dataset": "voc", "year": "2007", "split": "trainval", "image_size": 512},
)
register(
    id="VisAttn/RARL-COCO-v0",
    entry_point="visenv.envs.rarl:RARLEnv",
    vector_entry_point="visenv.envs.rarl:RARLVectorEnv",
    kwargs={"dataset": "coco", "year": "2017", "split": "train", "image_size": 512},
)
register(
    id="VisAttn/RARL-Shapes-v0",  # the embedded default
    entry_point="visenv.envs.rarl:RARLEnv",
    vector_entry_point="visenv.envs.rarl:RARLVectorEnv",
    kwargs={"dataset": "shapes", "split": "train", "image_size": 224},
)

# -- BGCut (paper 004): cut background off a mid-level feature map, one class per episode -------
# The DQN trains on VOC2007 trainval and VOC2012 train and is tested on VOC2007 test and VOC2012
# val (sec. 3); the embedded default runs the same MDP on Shapes scenes.
register(
    id="VisAttn/BGCut-VOC07-v0",
    entry_point="visenv.envs.bgcut:BGCutEnv",
    vector_entry_point="visenv.envs.bgcut:BGCutVectorEnv",
    kwargs={"dataset": "voc", "year": "2007", "split": "trainval"},
)
register(
    id="VisAttn/BGCut-VOC12-v0",
    entry_point="visenv.envs.bgcut:BGCutEnv",
    vector_entry_point="visenv.envs.bgcut:BGCutVectorEnv",
    kwargs={"dataset": "voc", "year": "2012", "split": "train"},
)
register(
    id="VisAttn/BGCut-Shapes-v0",  # the embedded default
    entry_point="visenv.envs.bgcut:BGCutEnv",
    vector_entry_point="visenv.envs.bgcut:BGCutVectorEnv",
    kwargs={"dataset": "shapes", "split": "train"},
)
