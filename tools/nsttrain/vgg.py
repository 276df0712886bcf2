"""The loss network: torchvision's VGG-16 up to relu4_3, frozen, with
ImageNet weights from a file (torchvision's vgg16-397923af.pth layout), or
randomly initialised for tests."""

import torch
import torchvision

from .errors import TrainError

# vgg16().features indices just after relu1_2, relu2_2, relu3_3, relu4_3
SLICE_ENDS = (4, 9, 16, 23)
LAYER_NAMES = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Vgg16Features(torch.nn.Module):
    """forward(images in 0..255) -> the four feature maps of LAYER_NAMES."""

    def __init__(self, features):
        super().__init__()
        starts = (0,) + SLICE_ENDS[:-1]
        self.slices = torch.nn.ModuleList(
            features[a:b] for a, b in zip(starts, SLICE_ENDS))
        self.register_buffer("mean",
                             torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std",
                             torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def forward(self, x):
        x = (x / 255.0 - self.mean) / self.std
        out = []
        for s in self.slices:
            x = s(x)
            out.append(x)
        return out


def vgg16_features():
    """torchvision's vgg16().features, without building the classifier
    (120M parameters that the loss does not use)."""
    return torchvision.models.vgg.make_layers(
        torchvision.models.vgg.cfgs["D"], batch_norm=False)


def random_init(features, seed):
    """torchvision's VGG initialisation of the convolutions, seeded, and
    without touching the global random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in features.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                              nonlinearity="relu")
                torch.nn.init.constant_(m.bias, 0)


def load_vgg(path=None, random_seed=None):
    """The loss network. path: a state dict of torchvision's vgg16
    (files.vgg_weights finds it); random_seed: not None for a seeded random
    initialisation instead (tests only: its features carry no ImageNet
    knowledge, so it cannot teach a real style)."""
    if random_seed is not None:
        features = vgg16_features()
        random_init(features, random_seed)
        return Vgg16Features(features), "random (seed %d)" % random_seed
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise TrainError("--vgg %s: no such file" % path)
    except Exception as e:  # torch.load raises many kinds on a bad file
        raise TrainError("--vgg %s: not a PyTorch state dict (%s)"
                         % (path, str(e).splitlines()[0] if str(e) else
                            type(e).__name__))
    if not isinstance(state, dict):
        raise TrainError("--vgg %s: holds a %s, not a state dict"
                         % (path, type(state).__name__))
    features = vgg16_features()
    # Only the convolutions are used: a file of the features alone will do,
    # the classifier's keys are not required.
    want = features.state_dict()
    for key, value in want.items():
        got = state.get("features." + key)
        if got is None:
            raise TrainError("--vgg %s: no 'features.%s': not torchvision's "
                             "VGG-16 layout" % (path, key))
        if not hasattr(got, "shape") or tuple(got.shape) != value.shape:
            raise TrainError("--vgg %s: 'features.%s' has shape %s, VGG-16's "
                             "is %s" % (path, key,
                                        list(getattr(got, "shape", [])),
                                        list(value.shape)))
    features.load_state_dict({k: state["features." + k] for k in want})
    return Vgg16Features(features), path
