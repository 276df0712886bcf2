#!/usr/bin/env python3
"""Write broken style.bin files derived from a good one.

    python3 tests/bad_models.py build/models/udnie.bin OUTDIR

One file per defect, named by what is wrong; libnst must refuse each with a
message naming the field. tests/test_model.c builds the same kinds (and many
more) in memory; these files are for trying the loader from the command
line and through the FFmpeg filter.
"""

import math
import os
import struct
import sys

HEADER = struct.Struct("<8sIIIIIIQQQQQIff12x")
TENSOR = struct.Struct("<40sII4IQQ")
LAYER_OP_INPUT0 = struct.Struct("<IIi")  # op, flags, input0
HEADER_SIZE = 96
TENSOR_RECORD = 80
LAYER_RECORD = 64
OP_CONV = 1


class Model:
    """The good file's bytes and where its tables are."""

    def __init__(self, data):
        if len(data) < HEADER_SIZE or data[:8] != b"NSTSTYLE":
            raise ValueError("not a style.bin")
        (_, self.version, _, self.n_meta, self.n_tensors, self.n_layers,
         self.alignment, self.meta_offset, self.tensor_offset,
         self.layer_offset, self.data_offset, self.data_size, _, _,
         _) = HEADER.unpack_from(data)
        self.data = data

    def tensor_at(self, i):
        return self.tensor_offset + i * TENSOR_RECORD

    def layer_at(self, i):
        return self.layer_offset + i * LAYER_RECORD

    def tensor(self, i):
        """(name, dtype, ndim, shape, offset, nbytes)"""
        name, dtype, ndim, *rest = TENSOR.unpack_from(self.data,
                                                      self.tensor_at(i))
        shape, offset, nbytes = rest[:4], rest[4], rest[5]
        return name.split(b"\0")[0].decode(), dtype, ndim, shape, offset, nbytes

    def layer(self, i):
        """(op, tensor0)"""
        op, = struct.unpack_from("<I", self.data, self.layer_at(i))
        tensor0, = struct.unpack_from("<I", self.data, self.layer_at(i) + 16)
        return op, tensor0

    def first_conv(self):
        for i in range(self.n_layers):
            op, tensor0 = self.layer(i)
            if op == OP_CONV:
                return i, tensor0
        raise ValueError("the model has no conv layer")


def patched(data, offset, fmt, *values):
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def empty(m):
    return b""


def truncated_header(m):
    return m.data[:HEADER_SIZE // 2]


def truncated_data(m):
    return m.data[:m.data_offset + m.data_size // 2]


def wrong_magic(m):
    return b"NOTSTYLE" + m.data[8:]


def wrong_version(m):
    return patched(m.data, 8, "<I", 2)


def inconsistent_shape(m):
    """The first conv's weight loses 4 output channels, nbytes to match."""
    _, t = m.first_conv()
    _, dtype, ndim, shape, _, nbytes = m.tensor(t)
    out = shape[ndim - 1] - 4 if shape[ndim - 1] > 4 else shape[ndim - 1] + 4
    base = m.tensor_at(t)
    data = patched(m.data, base + 48 + 4 * (ndim - 1), "<I", out)
    return patched(data, base + 72, "<Q",
                   nbytes // shape[ndim - 1] * out)


def absurd_size(m):
    """Tensor 0 claims 2^61 float32 values: nbytes 2^63."""
    base = m.tensor_at(0)
    data = patched(m.data, base + 40, "<II4I", 0, 4, 65536, 65536, 65536, 8192)
    return patched(data, base + 72, "<Q", 1 << 63)


def bad_offset(m):
    past = (m.data_size + m.alignment - 1) // m.alignment * m.alignment
    return patched(m.data, m.tensor_at(0) + 64, "<Q", past + m.alignment)


def bad_layer_input(m):
    """Layer 1 reads layer 3, which comes later."""
    return patched(m.data, m.layer_at(1) + 8, "<i", 3)


def bad_op(m):
    return patched(m.data, m.layer_at(1), "<I", 99)


def shrinks(m):
    """Valid, but the last conv has stride 2: the network halves the frame,
    which the engine cannot crop back to it."""
    last = max(i for i in range(m.n_layers) if m.layer(i)[0] == OP_CONV)
    return patched(m.data, m.layer_at(last) + 36, "<I", 2)


def nan_weight(m):
    _, dtype, _, _, offset, _ = m.tensor(0)
    at = m.data_offset + offset
    if dtype == 1:
        return patched(m.data, at, "<H", 0x7e00)
    return patched(m.data, at, "<f", math.nan)


def tiny_absurd(m):
    """100 bytes whose header claims the most of everything."""
    header = HEADER.pack(b"NSTSTYLE", 1, HEADER_SIZE, 64, 1024, 256, 64,
                         96, 96 + 4096, 96 + 4096 + 1024 * TENSOR_RECORD,
                         1 << 40, 1 << 62, 0, 0.0, 255.0)
    return header + struct.pack("<I", 64)  # a key_len whose key is missing


CASES = [
    ("empty.bin", empty, "empty file"),
    ("truncated-header.bin", truncated_header, "cut inside the header"),
    ("truncated-data.bin", truncated_data, "cut in the middle of the data"),
    ("wrong-magic.bin", wrong_magic, "magic NOTSTYLE"),
    ("wrong-version.bin", wrong_version, "version 2"),
    ("inconsistent-shape.bin", inconsistent_shape,
     "first conv weight shape disagrees with its layer"),
    ("absurd-size.bin", absurd_size, "tensor 0 claims 2^63 bytes"),
    ("bad-offset.bin", bad_offset, "tensor 0 offset past the data"),
    ("bad-layer-input.bin", bad_layer_input, "layer 1 reads layer 3"),
    ("bad-op.bin", bad_op, "layer 1 op 99"),
    ("nan-weight.bin", nan_weight, "first weight is NaN"),
    ("shrinks.bin", shrinks, "valid, but the network halves the frame"),
    ("tiny-absurd.bin", tiny_absurd, "100 bytes claiming maximal tables"),
]


def main(argv):
    if len(argv) != 3:
        print("usage: %s GOOD.bin OUTDIR" % argv[0], file=sys.stderr)
        return 2
    try:
        with open(argv[1], "rb") as f:
            model = Model(f.read())
    except (OSError, ValueError) as e:
        print("%s: %s" % (argv[1], e), file=sys.stderr)
        return 1
    os.makedirs(argv[2], exist_ok=True)
    for name, make, what in CASES:
        path = os.path.join(argv[2], name)
        data = make(model)
        with open(path, "wb") as f:
            f.write(data)
        print("%s: %d bytes, %s" % (path, len(data), what))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
