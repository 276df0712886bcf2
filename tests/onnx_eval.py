#!/usr/bin/python3
"""A small ONNX interpreter in numpy, to test tools/nst-onnx without
ONNX Runtime (which comes from npm, and only `make bench` installs it).

    onnx_eval.py MODEL.onnx W H IN.rgb OUT.rgb

Runs the model on one raw rgb24 frame (as float32 [1, 3, H, W], 0..255),
writes the result as rgb24 rounded as libnst rounds (floor(v + 0.5)) and
prints "opset N" and "ops A B ..." (the op types used) on stdout.

It decodes the protobuf itself and implements each op from the ONNX
operator specification (onnx/docs/Operators.md), not from our exporter or
from docs/style-bin.md: that is what makes it a check of the exporter.
Float64 throughout. Needs numpy (Debian's python3-numpy).
"""
import struct
import sys

import numpy as np


# ---- protobuf wire format ------------------------------------------------------

def fields(buf):
    """(field number, wire type, value) of a message; value is an int for
    varints, bytes for length-delimited and fixed-width fields."""
    pos, out = 0, []
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = varint(buf, pos)
        elif wt == 2:
            n, pos = varint(buf, pos)
            v, pos = buf[pos:pos + n], pos + n
        elif wt == 5:
            v, pos = buf[pos:pos + 4], pos + 4
        elif wt == 1:
            v, pos = buf[pos:pos + 8], pos + 8
        else:
            raise ValueError(f"wire type {wt}")
        out.append((num, wt, v))
    return out


def varint(buf, pos):
    n = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (n - (1 << 64) if n >= 1 << 63 else n), pos


def packed_or_plain(wt, v):
    """A repeated int64 field, packed or not."""
    if wt == 0:
        return [v]
    out, pos = [], 0
    while pos < len(v):
        x, pos = varint(v, pos)
        out.append(x)
    return out


# ---- ONNX messages (field numbers from onnx/onnx.proto) -----------------------------

DTYPES = {1: np.float32, 7: np.int64}


def tensor(buf):
    dims, dtype, name, raw = [], 1, "", b""
    for num, wt, v in fields(buf):
        if num == 1:
            dims += packed_or_plain(wt, v)
        elif num == 2:
            dtype = v
        elif num == 8:
            name = v.decode()
        elif num == 9:
            raw = v
    a = np.frombuffer(raw, dtype=np.dtype(DTYPES[dtype]).newbyteorder("<"))
    return name, a.reshape(dims).astype(np.float64 if dtype == 1 else np.int64)


def attribute(buf):
    name, val, ints = "", None, []
    for num, wt, v in fields(buf):
        if num == 1:
            name = v.decode()
        elif num == 2:
            val = struct.unpack("<f", v)[0]
        elif num == 3:
            val = v
        elif num == 4:
            val = v.decode()
        elif num == 8:
            ints += packed_or_plain(wt, v)
    return name, (ints if val is None else val)


def node(buf):
    n = {"in": [], "out": [], "op": "", "attr": {}}
    for num, _, v in fields(buf):
        if num == 1:
            n["in"].append(v.decode())
        elif num == 2:
            n["out"].append(v.decode())
        elif num == 4:
            n["op"] = v.decode()
        elif num == 5:
            k, a = attribute(v)
            n["attr"][k] = a
    return n


def load(path):
    with open(path, "rb") as f:
        model = fields(f.read())
    graph = next(v for num, _, v in model if num == 7)
    opset = next(fields(v) for num, _, v in model if num == 8)
    version = next(v for num, _, v in opset if num == 2)
    nodes, inits = [], {}
    for num, _, v in fields(graph):
        if num == 1:
            nodes.append(node(v))
        elif num == 5:
            k, a = tensor(v)
            inits[k] = a
    return version, nodes, inits


# ---- ops, as the ONNX specification defines them (batch 1, 2-D) ------------------------

def conv(x, w, b, a):
    """y[o, i, j] = sum_c,ky,kx w[o, c, ky, kx] * xpad[c, s*i + ky, s*j + kx]"""
    sy, sx = a.get("strides", [1, 1])
    t, l, bo, r = a.get("pads", [0, 0, 0, 0])
    x = np.pad(x[0], ((0, 0), (t, bo), (l, r)))
    o, c, kh, kw = w.shape
    oh, ow = (x.shape[1] - kh) // sy + 1, (x.shape[2] - kw) // sx + 1
    y = np.zeros((o, oh * ow))
    for ky in range(kh):
        for kx in range(kw):
            patch = x[:, ky:ky + sy * (oh - 1) + 1:sy, kx:kx + sx * (ow - 1) + 1:sx]
            y += w[:, :, ky, kx] @ patch.reshape(c, -1)
    y = y.reshape(o, oh, ow)
    return (y if b is None else y + b[:, None, None])[None]


def conv_transpose(x, w, b, a):
    """y[o, s*i + ky - pad_begin, ...] += x[c, i, ...] * w[c, o, ky, kx]; the
    full result, output_padding added at the end, less the pads."""
    sy, sx = a.get("strides", [1, 1])
    t, l, bo, r = a.get("pads", [0, 0, 0, 0])
    py, px = a.get("output_padding", [0, 0])
    c, o, kh, kw = w.shape
    _, h, wd = x[0].shape
    full = np.zeros((o, sy * (h - 1) + kh + py, sx * (wd - 1) + kw + px))
    xs = x[0].reshape(c, -1)
    for ky in range(kh):
        for kx in range(kw):
            full[:, ky:ky + sy * (h - 1) + 1:sy, kx:kx + sx * (wd - 1) + 1:sx] += \
                (w[:, :, ky, kx].T @ xs).reshape(o, h, wd)
    y = full[:, t:full.shape[1] - bo, l:full.shape[2] - r]
    return (y if b is None else y + b[:, None, None])[None]


def instance_norm(x, scale, bias, a):
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    eps = a.get("epsilon", 1e-5)
    return scale[None, :, None, None] * (x - mean) / np.sqrt(var + eps) + bias[None, :, None, None]


def slice_(x, starts, ends, axes=None, steps=None):
    idx = [slice(None)] * x.ndim
    axes = range(len(starts)) if axes is None else axes
    for s, e, ax in zip(starts, ends, axes):
        idx[ax] = slice(int(s), int(e))
    return x[tuple(idx)]


OPS = {
    "Conv": lambda i, a: conv(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "ConvTranspose": lambda i, a: conv_transpose(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "InstanceNormalization": lambda i, a: instance_norm(*i, a),
    "Relu": lambda i, a: np.maximum(i[0], 0),
    "Add": lambda i, a: i[0] + i[1],
    "Mul": lambda i, a: i[0] * i[1],
    "Tanh": lambda i, a: np.tanh(i[0]),
    "Clip": lambda i, a: np.clip(i[0], i[1], i[2]),
    "Identity": lambda i, a: i[0],
    "Slice": lambda i, a: slice_(*i),
    "Gather": lambda i, a: np.take(i[0], i[1], axis=a.get("axis", 0)),
}


def main(argv):
    if len(argv) != 6:
        sys.exit(__doc__.strip())
    path, w, h, src, dst = argv[1], int(argv[2]), int(argv[3]), argv[4], argv[5]
    version, nodes, values = load(path)
    rgb = np.fromfile(src, dtype=np.uint8)
    values["input"] = rgb.reshape(h, w, 3).transpose(2, 0, 1)[None].astype(np.float64)
    for n in nodes:  # ONNX requires the nodes in topological order
        if n["op"] not in OPS:
            sys.exit(f"onnx_eval: op {n['op']} is not implemented here")
        args = [values[i] if i else None for i in n["in"]]
        values[n["out"][0]] = OPS[n["op"]](args, n["attr"])
    out = values["output"][0]
    if out.shape != (3, h, w):
        sys.exit(f"onnx_eval: output shape {out.shape}, not (3, {h}, {w})")
    px = np.clip(np.floor(out.transpose(1, 2, 0) + 0.5), 0, 255).astype(np.uint8)
    px.tofile(dst)
    print(f"opset {version}")
    print("ops " + " ".join(sorted({n["op"] for n in nodes})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
