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
