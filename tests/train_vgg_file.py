"""Writes a VGG-16 weights file in torchvision's layout (features.N.weight,
features.N.bias) holding the convolutions that --random-vgg --seed SEED
initialises, so that tests/test_train.sh can check that --vgg loads a file
into the right layers: the same losses as with --random-vgg.

    train_vgg_file.py SEED OUT.pth
"""

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
from nsttrain.vgg import random_init, vgg16_features  # noqa: E402


def main():
    seed, out = int(sys.argv[1]), sys.argv[2]
    features = vgg16_features()
    random_init(features, seed)
    torch.save({"features." + k: v for k, v in features.state_dict().items()},
               out)


if __name__ == "__main__":
    main()
