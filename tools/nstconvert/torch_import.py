"""A state dict of PyTorch's fast_neural_style TransformerNet (the examples'
candy / mosaic / rain_princess / udnie .pth and .model files, or one trained
with tools/train) as a stylebin.Graph.

TransformerNet: ConvLayer = ReflectionPad2d(k // 2) + Conv2d with bias;
UpsampleConvLayer = nearest x2 interpolation, then a ConvLayer;
InstanceNorm2d(affine=True), eps 1e-5. It takes RGB 0..255 and returns
0..255 without a tanh (the example clamps when it saves the image).

graph_from_state_dict() needs numpy only; load_state_dict() needs torch.
"""

import re

import numpy as np

from .arrays import conv_hwio, floats
from .stylebin import PAD_REFLECT, ConvertError, Graph

TORCH_EPS = 1e-5
RESIDUAL_BLOCKS = 5

# InstanceNorm2d of old PyTorch kept running statistics even without
# track_running_stats; fast_neural_style deletes these keys with this regex
# before load_state_dict, and so do we (they play no part in the network).
DEPRECATED_KEY = re.compile(r"in\d+\.(running_(mean|var)|num_batches_tracked)$")


def _numpy(value, key):
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        raise ConvertError("'%s' is not an array" % key)
    if a.dtype.kind != "f":
        raise ConvertError("'%s' holds %s values, not floating point"
                           % (key, a.dtype))
    return a


class _StateDict:
    """Hands out the network's entries in network order, checking each
    one's shape, and at the end refuses entries that were not used."""

    def __init__(self, state_dict):
        if not hasattr(state_dict, "items"):
            raise ConvertError("expected a state dict (a mapping of names to "
                               "tensors), got %s" % type(state_dict).__name__)
        self.entries = {}
        for key, value in state_dict.items():
            if not isinstance(key, str):
                raise ConvertError("state dict key %r is not a string"
                                   % (key,))
            if not DEPRECATED_KEY.search(key):
                self.entries[key] = value
        self.used = set()

    def take(self, key, shape):
        """shape: ints, None where any size goes; returns the array."""
        if key not in self.entries:
            raise ConvertError("missing '%s': not a fast_neural_style "
                               "TransformerNet state dict" % key)
        a = _numpy(self.entries[key], key)
        if a.ndim != len(shape) or any(
                want is not None and want != got
                for want, got in zip(shape, a.shape)):
            raise ConvertError("'%s' has shape %s, TransformerNet needs [%s]"
                               % (key, list(a.shape), ", ".join(
                                   "*" if d is None else str(d)
                                   for d in shape)))
        self.used.add(key)
        return a

    def check_all_used(self):
        for key in self.entries:
            if key not in self.used:
                raise ConvertError("unexpected '%s': not a fast_neural_style "
                                   "TransformerNet state dict" % key)


def graph_from_state_dict(state_dict):
    """The TransformerNet in state_dict (name -> numpy array or torch tensor)
    as a stylebin.Graph. Channel widths come from the weights (32, 64, 128
    in the original); the layers, kernels and strides must be
    TransformerNet's. Input RGB 0..255, output clamped to 0..255."""
    sd = _StateDict(state_dict)
    g = Graph()

    def conv(x, name, kernel, stride, out_ch=None):
        in_ch = g.channels(x)
        w = sd.take(name + ".conv2d.weight", [out_ch, in_ch, kernel, kernel])
        out_ch = w.shape[0]
        b = sd.take(name + ".conv2d.bias", [out_ch])
        return g.conv(x, name + ".conv2d", conv_hwio(w, name), kernel, out_ch,
                      stride, padding=PAD_REFLECT,
                      bias=floats(b, name + ".conv2d.bias"))

    def norm(x, name):
        ch = g.channels(x)
        scale = sd.take(name + ".weight", [ch])
        shift = sd.take(name + ".bias", [ch])
        return g.instance_norm(x, name, floats(scale, name + ".weight"),
                               floats(shift, name + ".bias"), TORCH_EPS)

    x = Graph.INPUT
    x = g.relu(norm(conv(x, "conv1", 9, 1), "in1"))
    x = g.relu(norm(conv(x, "conv2", 3, 2), "in2"))
    x = g.relu(norm(conv(x, "conv3", 3, 2), "in3"))
    for block in range(1, RESIDUAL_BLOCKS + 1):
        p = "res%d." % block
        ch = g.channels(x)
        y = g.relu(norm(conv(x, p + "conv1", 3, 1, ch), p + "in1"))
        y = norm(conv(y, p + "conv2", 3, 1, ch), p + "in2")
        x = g.add(y, x)
    x = g.relu(norm(conv(g.upsample(x, 2), "deconv1", 3, 1), "in4"))
    x = g.relu(norm(conv(g.upsample(x, 2), "deconv2", 3, 1), "in5"))
    x = conv(x, "deconv3", 9, 1, 3)
    sd.check_all_used()
    g.output(x, tanh=False, mul=1.0, add=0.0, lo=0.0, hi=255.0)
    return g


def load_state_dict(path):
    """The state dict in a .pth / .model / .pt file. Loaded with
    weights_only, so that a file cannot run code; a whole pickled module is
    refused (save its state_dict())."""
    try:
        import torch
    except ImportError:
        raise ConvertError("reading a PyTorch file needs python3-torch "
                           "(apt-get install python3-torch)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as e:
        raise ConvertError("cannot read it: %s" % (e.strerror or e))
    except Exception as e:  # torch raises anything from pickle and zipfile
        why = (str(e).strip().splitlines() or [type(e).__name__])[0]
        # weights_only's message advises turning it off; say what it found
        why = why[why.find("WeightsUnpickler error"):] \
            if "WeightsUnpickler error" in why else why
        if "Unsupported class" in why:
            why += "; for a whole pickled model, save its state_dict()"
        raise ConvertError("not a PyTorch state dict file (torch.load: %s)"
                           % why)
    return obj


def import_torch(path):
    """(Graph, input range) for nst-convert."""
    return graph_from_state_dict(load_state_dict(path)), (0.0, 255.0)
