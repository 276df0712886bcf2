"""The input files, found and checked without torch (which takes seconds to
import), so that a wrong option is told at once."""

import os

from .errors import TrainError

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ppm", ".tif",
              ".tiff")
VGG_FILE = "vgg16-397923af.pth"
VGG_URL = "https://download.pytorch.org/models/" + VGG_FILE


def list_images(folder):
    """The image files under folder (recursively, COCO's or ImageFolder's
    layout alike), sorted so that a seed gives the same order anywhere."""
    if not os.path.isdir(folder):
        raise TrainError("content folder %s: not a directory" % folder)
    found = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(EXTENSIONS):
                found.append(os.path.join(root, name))
    if not found:
        raise TrainError("content folder %s holds no images (%s)"
                         % (folder, " ".join(EXTENSIONS)))
    return found


def torch_cache_checkpoints():
    """torchvision's download cache: torch.hub.get_dir()/checkpoints, by the
    same rule ($TORCH_HOME, else $XDG_CACHE_HOME/torch, else
    ~/.cache/torch)."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "torch")
    return os.path.join(os.path.expanduser(home), "hub", "checkpoints")


def vgg_weights(path):
    """The VGG-16 weights file: path (from --vgg), else torchvision's
    cached download."""
    if path:
        if not os.path.isfile(path):
            raise TrainError("--vgg %s: no such file" % path)
        return path
    cached = os.path.join(torch_cache_checkpoints(), VGG_FILE)
    if os.path.isfile(cached):
        return cached
    raise TrainError(
        "no VGG-16 weights: give --vgg PATH (torchvision's %s, from %s) or "
        "put that file in %s (torchvision's cache); --random-vgg is for "
        "tests only" % (VGG_FILE, VGG_URL, torch_cache_checkpoints()))


def check_style(path):
    if not os.path.isfile(path):
        raise TrainError("style image %s: no such file" % path)
