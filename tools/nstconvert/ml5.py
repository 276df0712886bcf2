"""The ml5 / deeplearn.js checkpoint of Engstrom's fast-style-transfer
network: a folder with manifest.json and one raw little-endian float32 file
per variable (Variable, Variable_1 ... Variable_47)."""

import array
import json
import math
import os
import sys

from .stylebin import ConvertError, Graph


ML5_EPS = 1e-3
ML5_VARIABLES = 48


class Ml5Checkpoint:
    """Reads Variable_<id> from a deeplearn.js checkpoint folder, checking
    the manifest's shape and the file's size against what the network
    needs."""

    def __init__(self, folder):
        self.folder = folder
        path = os.path.join(folder, "manifest.json")
        try:
            with open(path, encoding="utf-8") as f:
                self.manifest = json.load(f)
        except OSError as e:
            raise ConvertError("cannot read %s: %s" % (path, e.strerror))
        except ValueError as e:
            raise ConvertError("%s is not valid JSON: %s" % (path, e))
        if not isinstance(self.manifest, dict):
            raise ConvertError("%s: expected an object of variables" % path)
        expected = {self.name(i) for i in range(ML5_VARIABLES)}
        extra = sorted(set(self.manifest) - expected)
        if extra:
            raise ConvertError("%s: unexpected variables %s (this network "
                               "has Variable..Variable_%d)"
                               % (path, ", ".join(extra), ML5_VARIABLES - 1))

    @staticmethod
    def name(var_id):
        return "Variable" if var_id == 0 else "Variable_%d" % var_id

    def load(self, var_id, shape):
        name = self.name(var_id)
        entry = self.manifest.get(name)
        if not isinstance(entry, dict):
            raise ConvertError("manifest.json has no entry for %s" % name)
        if entry.get("shape") != list(shape):
            raise ConvertError("%s has shape %s in manifest.json, expected %s"
                               % (name, entry.get("shape"), list(shape)))
        filename = entry.get("filename")
        if (not isinstance(filename, str) or not filename
                or os.path.basename(filename) != filename):
            raise ConvertError("%s: bad filename %r in manifest.json"
                               % (name, filename))
        path = os.path.join(self.folder, filename)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError as e:
            raise ConvertError("cannot read %s: %s" % (path, e.strerror))
        count = 1
        for d in shape:
            count *= d
        if len(raw) != count * 4:
            raise ConvertError("%s is %d bytes, shape %s of float32 needs %d"
                               % (path, len(raw), list(shape), count * 4))
        values = array.array("f")
        values.frombytes(raw)
        if sys.byteorder != "little":
            values.byteswap()
        for i, v in enumerate(values):
            if not math.isfinite(v):
                raise ConvertError("%s: value %d is %r" % (path, i, v))
        return values


def build_ml5_network(ckpt):
    """The Engstrom network as a Graph, variable ids as in
    ../shared/models/README.md."""
    g = Graph()
    n_in = [0]  # instance norms are numbered in1, in2 ... along the network

    def conv_in(x, var_id, name, kernel, out_ch, stride, in_name):
        w = ckpt.load(var_id, [kernel, kernel, g.channels(x), out_ch])
        x = g.conv(x, name, w, kernel, out_ch, stride)
        return norm(x, var_id + 1, in_name)

    def deconv_in(x, var_id, name, out_ch, in_name):
        w = ckpt.load(var_id, [3, 3, out_ch, g.channels(x)])
        x = g.conv_transpose(x, name, w, 3, out_ch, 2)
        return norm(x, var_id + 1, in_name)

    def norm(x, var_id, name):
        # Engstrom's _instance_norm creates shift, then scale.
        ch = g.channels(x)
        shift = ckpt.load(var_id, [ch])
        scale = ckpt.load(var_id + 1, [ch])
        return g.instance_norm(x, name, scale, shift, ML5_EPS)

    def numbered_in():
        n_in[0] += 1
        return "in%d" % n_in[0]

    x = Graph.INPUT
    x = g.relu(conv_in(x, 0, "conv1", 9, 32, 1, numbered_in()))
    x = g.relu(conv_in(x, 3, "conv2", 3, 64, 2, numbered_in()))
    x = g.relu(conv_in(x, 6, "conv3", 3, 128, 2, numbered_in()))
    for block in range(5):
        var_id = 9 + 6 * block
        prefix = "res%d." % (block + 1)
        y = g.relu(conv_in(x, var_id, prefix + "conv1", 3, 128, 1,
                           prefix + "in1"))
        y = conv_in(y, var_id + 3, prefix + "conv2", 3, 128, 1,
                    prefix + "in2")
        x = g.add(y, x)
    x = g.relu(deconv_in(x, 39, "deconv1", 64, numbered_in()))
    x = g.relu(deconv_in(x, 42, "deconv2", 32, numbered_in()))
    x = conv_in(x, 45, "conv4", 9, 3, 1, numbered_in())
    g.output(x, tanh=True, mul=150.0, add=127.5, lo=0.0, hi=255.0)
    return g
