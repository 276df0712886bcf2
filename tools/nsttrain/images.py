"""Content and style images: files read with Pillow, as RGB float tensors
in 0..255 (the transformer's and the loss network's input range)."""

import torch
from PIL import Image

from .errors import TrainError

def to_tensor(img):
    """PIL image -> [3, H, W] float32 in 0..255."""
    img = img.convert("RGB")
    data = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
    return data.view(img.height, img.width, 3).permute(2, 0, 1).float()


def open_image(path, what):
    try:
        with Image.open(path) as img:
            img.load()
            return img.convert("RGB")
    except FileNotFoundError:
        raise TrainError("%s %s: no such file" % (what, path))
    except OSError as e:  # Pillow's UnidentifiedImageError is an OSError
        raise TrainError("%s %s: cannot read the image (%s)" % (what, path, e))


def resize_short_side(img, size):
    w, h = img.size
    if min(w, h) == size:
        return img
    scale = size / min(w, h)
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                      Image.BILINEAR)


def center_crop(img, size):
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    return img.crop((left, top, left + size, top + size))


def load_style(path, size=None):
    """The style image, its shorter side scaled to size when given."""
    img = open_image(path, "style image")
    if size:
        img = resize_short_side(img, size)
    return to_tensor(img).unsqueeze(0)


class ContentImages(torch.utils.data.Dataset):
    """Each image scaled so that its shorter side is size, then its centre
    square of size x size (fast_neural_style's Resize + CenterCrop)."""

    def __init__(self, paths, size):
        self.paths = paths
        self.size = size

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        img = open_image(self.paths[i], "content image")
        return to_tensor(center_crop(resize_short_side(img, self.size),
                                     self.size))
