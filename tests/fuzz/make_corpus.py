#!/usr/bin/env python3
"""Write the seed corpora of the libFuzzer harnesses.

    python3 tests/fuzz/make_corpus.py [tests/fuzz/corpus]

corpus/model/: small valid style.bin files (docs/style-bin.md) with every
op, both dtypes and both channel orders, and broken ones made by hand, one
defect each, named for it. corpus/frame/: frame descriptions for
fuzz_frame.c (every format, odd sizes, bottom-up planes, invalid values).
The files are committed; this script says how they were made, and
rewrites them all (files it does not write are left alone: regressions
found by the fuzzer are kept beside them, named regress-*).
"""

import math
import os
import struct
import sys

HEADER = struct.Struct("<8sIIIIIIQQQQQIff12x")
TENSOR = struct.Struct("<40sII4IQQ")
LAYER = struct.Struct("<IIiiIIIIIIII4f")
NONE = 0xFFFFFFFF
CONV, CONV_T, UPSAMPLE, NORM, RELU, ADD, OUTPUT = range(1, 8)
F32, F16 = 0, 1


def align(n, a):
    return (n + a - 1) // a * a


class Model:
    """A style.bin in the making: tensors, layers, metadata."""

    def __init__(self, bgr=False, input_range=(0.0, 255.0), alignment=64):
        self.meta = [("name", "fuzz"), ("source", "tests/fuzz/make_corpus.py"),
                     ("license", "MIT")]
        self.tensors = []   # (name, dtype, shape, bytes)
        self.layers = []    # dicts of LAYER's fields
        self.bgr = bgr
        self.input_range = input_range
        self.alignment = alignment
        self.seed = 12345

    def rand(self):
        self.seed = (self.seed * 1103515245 + 12345) & 0xFFFFFFFF
        return ((self.seed >> 8) & 0xFFFFFF) / 16777216.0 - 0.5

    def tensor(self, name, shape, dtype=F32, values=None):
        n = math.prod(shape)
        if values is None:
            values = [self.rand() for _ in range(n)]
        fmt = "<%d%s" % (n, "e" if dtype == F16 else "f")
        self.tensors.append((name, dtype, list(shape), struct.pack(fmt, *values)))
        return len(self.tensors) - 1

    def layer(self, op, in0, in_ch, out_ch, in1=-1, t0=NONE, t1=NONE,
              kernel=0, stride=0, padding=0, flags=0, f=(0.0, 0.0, 0.0, 0.0)):
        self.layers.append(dict(op=op, flags=flags, in0=in0, in1=in1, t0=t0,
                                t1=t1, in_ch=in_ch, out_ch=out_ch,
                                kernel=kernel, stride=stride, padding=padding,
                                f=list(f)))
        return len(self.layers) - 1

    def conv(self, x, cin, cout, k, stride=1, padding=0, bias=True, dtype=F32):
        i = len(self.layers)
        w = self.tensor("l%d.weight" % i, (k, k, cin, cout), dtype)
        b = self.tensor("l%d.bias" % i, (cout,), dtype) if bias else NONE
        return self.layer(CONV, x, cin, cout, t0=w, t1=b, kernel=k,
                          stride=stride, padding=padding)

    def conv_t(self, x, cin, cout, k, stride):
        i = len(self.layers)
        w = self.tensor("l%d.weight" % i, (k, k, cout, cin))
        return self.layer(CONV_T, x, cin, cout, t0=w, kernel=k, stride=stride)

    def norm(self, x, c, relu=False):
        i = len(self.layers)
        s = self.tensor("l%d.scale" % i, (c,))
        b = self.tensor("l%d.shift" % i, (c,))
        y = self.layer(NORM, x, c, c, t0=s, t1=b, f=(1e-3, 0, 0, 0))
        return self.layer(RELU, y, c, c) if relu else y

    def output(self, x, tanh=True):
        return self.layer(OUTPUT, x, 3, 3, flags=int(tanh),
                          f=(150.0, 127.5, 0.0, 255.0))

    def bytes(self):
        a = self.alignment
        meta = b"".join(struct.pack("<I", len(k.encode())) + k.encode() +
                        struct.pack("<I", len(v.encode())) + v.encode()
                        for k, v in self.meta)
        meta_off = HEADER.size
        tensor_off = meta_off + len(meta)
        layer_off = tensor_off + TENSOR.size * len(self.tensors)
        data_off = align(layer_off + LAYER.size * len(self.layers), a)
        data = b""
        records = b""
        for name, dtype, shape, raw in self.tensors:
            data += b"\0" * (align(len(data), a) - len(data))
            shape4 = shape + [1] * (4 - len(shape))
            records += TENSOR.pack(name.encode(), dtype, len(shape), *shape4,
                                   len(data), len(raw))
            data += raw
        layers = b"".join(LAYER.pack(l["op"], l["flags"], l["in0"], l["in1"],
                                     l["t0"], l["t1"], l["in_ch"], l["out_ch"],
                                     l["kernel"], l["stride"], l["padding"], 0,
                                     *l["f"]) for l in self.layers)
        head = HEADER.pack(b"NSTSTYLE", 1, HEADER.size, len(self.meta),
                           len(self.tensors), len(self.layers), a, meta_off,
                           tensor_off, layer_off, data_off, len(data),
                           int(self.bgr), *self.input_range)
        body = head + meta + records + layers
        return body + b"\0" * (data_off - len(body)) + data


# ---- valid models ---------------------------------------------------------------

def tiny():
    """The smallest kind: a 1x1 conv and the output."""
    m = Model()
    m.output(m.conv(-1, 3, 3, 1, bias=False), tanh=False)
    return m


def small():
    """Down by a stride-2 conv, an instance norm and ReLU, up by a
    transposed conv: tests/model_builder.h's small model."""
    m = Model()
    x = m.norm(m.conv(-1, 3, 8, 3, stride=2), 8, relu=True)
    m.output(m.conv_t(x, 8, 3, 3, 2))
    return m


def residual():
    """The ml5 network's shape at a few channels: 9x9 in, two stride-2
    convs, a residual block, two transposed convs, 9x9 out."""
    m = Model()
    x = m.norm(m.conv(-1, 3, 4, 9, bias=False), 4, relu=True)
    x = m.norm(m.conv(x, 4, 8, 3, stride=2, bias=False), 8, relu=True)
    x = m.norm(m.conv(x, 8, 8, 3, stride=2, bias=False), 8, relu=True)
    y = m.norm(m.conv(x, 8, 8, 3, bias=False), 8, relu=True)
    y = m.norm(m.conv(y, 8, 8, 3, bias=False), 8)
    x = m.layer(ADD, y, 8, 8, in1=x)
    x = m.norm(m.conv_t(x, 8, 8, 3, 2), 8, relu=True)
    x = m.norm(m.conv_t(x, 8, 4, 3, 2), 4, relu=True)
    x = m.norm(m.conv(x, 4, 3, 9, bias=False), 3)
    m.output(x)
    return m


def compact():
    """A residual network at two channels: the base of the broken files,
    whose patches name its layers and tensors by index (layer 1 an
    instance norm, 2 a ReLU, 3 a stride-2 conv; tensor 0 the first
    weight, 1 its bias)."""
    m = Model()
    x = m.norm(m.conv(-1, 3, 2, 3), 2, relu=True)
    x = m.norm(m.conv(x, 2, 2, 3, stride=2, bias=False), 2, relu=True)
    y = m.conv(x, 2, 2, 3, bias=False)
    x = m.layer(ADD, y, 2, 2, in1=x)
    m.output(m.conv_t(x, 2, 3, 3, 2))
    return m


def every_op_chained():
    """every_op with a single chain through all of its ops."""
    m = Model(bgr=True, input_range=(-1.0, 1.0))
    x = m.layer(UPSAMPLE, -1, 3, 3, stride=3)
    x = m.conv(x, 3, 3, 5, stride=2, padding=2, dtype=F16)
    x = m.conv(x, 3, 6, 3, padding=1, bias=False)
    x = m.norm(x, 6, relu=True)
    x = m.conv_t(x, 6, 3, 4, 2)
    x = m.conv(x, 3, 3, 3, stride=3, padding=0)
    x = m.layer(ADD, x, 3, 3, in1=-1)
    m.tensor("unused", (4,), F16)
    m.output(x, tanh=False)
    return m


def winograd():
    """3x3 stride-1 convs of 16 channels and more, which the engine runs by
    Winograd: 20 outputs (5 texels, one per invocation) and 16 (two)."""
    m = Model()
    x = m.conv(-1, 3, 16, 3)
    x = m.conv(x, 16, 20, 3, padding=2)
    x = m.conv(x, 20, 16, 3, bias=False)
    m.output(m.conv(x, 16, 3, 1))
    return m


def metadata():
    """64 records (the most), UTF-8 of every length, an empty value."""
    m = tiny()
    m.meta[0] = ("name", "Udnie \u00e9\u20ac\U0001f3a8")
    m.meta.append(("converter", ""))
    for i in range(64 - len(m.meta)):
        m.meta.append(("k%02d" % i, "v" * i))
    return m


# ---- broken ones ------------------------------------------------------------------

def patched(model, offset, fmt, value):
    b = bytearray(model.bytes())
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def layout(b):
    """(tensor_offset, layer_offset, data_offset) of a file."""
    h = HEADER.unpack_from(b)
    return h[8], h[9], h[10]


def broken():
    out = {}
    r = compact()
    good = r.bytes()
    t_off, l_off, d_off = layout(good)

    def hdr(name, offset, fmt, value):
        out[name] = patched(r, offset, fmt, value)

    def tensor(name, i, field, fmt, value):
        out[name] = patched(r, t_off + 80 * i + field, fmt, value)

    def layer(name, i, field, fmt, value):
        out[name] = patched(r, l_off + 64 * i + field, fmt, value)

    out["empty"] = b""
    out["magic-only"] = b"NSTSTYLE"
    out["bad-magic"] = b"NOTSTYLE" + good[8:]
    for n in (12, 50, 95, 96, 200):
        out["truncated-%d" % n] = good[:n]
    out["truncated-in-layers"] = good[:l_off + 10]
    out["truncated-in-data"] = good[:d_off + 5]
    out["truncated-by-one"] = good[:-1]
    hdr("version-2", 8, "<I", 2)
    hdr("version-0", 8, "<I", 0)
    hdr("header-size-128", 12, "<I", 128)
    hdr("n-meta-65", 16, "<I", 65)
    hdr("n-tensors-0", 20, "<I", 0)
    hdr("n-tensors-huge", 20, "<I", 0xFFFFFFFF)
    hdr("n-layers-1", 24, "<I", 1)
    hdr("n-layers-huge", 24, "<I", 0xFFFFFFFF)
    hdr("alignment-48", 28, "<I", 48)
    hdr("alignment-128", 28, "<I", 128)
    hdr("meta-offset-in-header", 32, "<Q", 10)
    hdr("tensor-offset-2^64", 40, "<Q", 2**64 - 8)
    hdr("tables-overlap", 48, "<Q", t_off + 80)
    hdr("data-size-2^63", 64, "<Q", 2**63)
    b = bytearray(good)
    struct.pack_into("<QQ", b, 56, d_off + 16, len(good) - d_off - 16)
    out["data-offset-misaligned"] = bytes(b)
    hdr("input-order-2", 72, "<I", 2)
    hdr("input-range-nan", 76, "<f", math.nan)
    hdr("input-range-empty", 80, "<f", 0.0)
    hdr("reserved-header-byte", 90, "<B", 1)
    tensor("dtype-2", 0, 40, "<I", 2)
    tensor("ndim-5", 0, 44, "<I", 5)
    tensor("shape-0", 0, 48, "<I", 0)
    tensor("shape-past-ndim", 1, 52, "<I", 2)
    tensor("nbytes-mismatch", 0, 72, "<Q", 4)
    tensor("offset-misaligned", 1, 64, "<Q", 4)
    tensor("offset-past-data", 1, 64, "<Q", 2**64 - 64)
    tensor("tensors-overlap", 1, 64, "<Q", 0)
    tensor("name-empty", 1, 0, "<B", 0)
    tensor("name-no-nul", 1, 0, "40s", b"x" * 40)
    tensor("name-duplicate", 1, 0, "40s", b"l0.weight")
    tensor("name-bad-utf8", 1, 0, "4s", b"l\xff\xfe\0")
    b = bytearray(good)
    for i, d in enumerate((65536, 65536, 65536, 65536)):
        struct.pack_into("<I", b, t_off + 48 + 4 * i, d)
    out["shape-over-2^64-bytes"] = bytes(b)
    layer("op-0", 1, 0, "<I", 0)
    layer("op-99", 1, 0, "<I", 99)
    layer("input-forward", 3, 8, "<i", 5)
    layer("input-self", 3, 8, "<i", 3)
    layer("input-minus-2", 3, 8, "<i", -2)
    layer("input1-on-conv", 3, 12, "<i", 0)
    layer("tensor0-out-of-range", 0, 16, "<I", 5000)
    layer("weight-missing", 0, 16, "<I", NONE)
    layer("weight-wrong-shape", 3, 16, "<I", 0)
    layer("channels-mismatch", 3, 24, "<I", 5)
    layer("out-channels-2000", 0, 28, "<I", 2000)
    layer("even-conv-kernel", 0, 32, "<I", 8)
    layer("stride-5", 3, 36, "<I", 5)
    layer("padding-3", 0, 40, "<I", 3)
    layer("flags-on-conv", 0, 4, "<I", 1)
    layer("reserved-layer-field", 0, 44, "<I", 9)
    layer("eps-0", 1, 48, "<f", 0.0)
    layer("eps-nan", 1, 48, "<f", math.nan)
    n = len(r.layers)
    layer("clamp-empty", n - 1, 56, "<f", 300.0)
    layer("last-not-output", n - 1, 0, "<I", RELU)
    layer("output-not-last", 2, 0, "<I", OUTPUT)
    layer("unused-layer", 3, 8, "<i", 1)
    b = bytearray(good)
    struct.pack_into("<f", b, d_off + 4 * 7, math.nan)
    out["weight-nan"] = bytes(b)
    struct.pack_into("<f", b, d_off + 4 * 7, -math.inf)
    out["weight-inf"] = bytes(b)
    f16 = every_op_chained()
    b = bytearray(f16.bytes())
    _, _, fd = layout(b)
    struct.pack_into("<H", b, fd + 2, 0x7e00)
    out["weight-f16-nan"] = bytes(b)
    m = tiny()
    m.meta = [("name", "a"), ("source", "b"), ("other", "c")]
    out["license-missing"] = m.bytes()
    m.meta = [("name", "a"), ("source", "b"), ("license", "c"), ("name", "d")]
    out["meta-key-twice"] = m.bytes()
    m.meta = [("name", "aXYZ"), ("source", "b"), ("license", "c")]
    out["meta-bad-utf8"] = m.bytes().replace(b"aXYZ", b"a\xff\xfe\xfd")
    # 100 bytes that claim every table at its largest
    h = bytearray(100)
    HEADER.pack_into(h, 0, b"NSTSTYLE", 1, 96, 0, 1024, 256, 64, 96, 96,
                     96 + 1024 * 80, 2**62, 2**62, 0, 0.0, 255.0)
    out["tiny-absurd"] = bytes(h)
    return out


# ---- frames (fuzz_frame.c) ------------------------------------------------------------

def frames():
    out = {}
    pixels = bytes(range(256)) * 2
    for fmt, name in enumerate(("rgb24", "rgba", "bgra", "yuv420p", "yuv444p",
                                "nv12")):
        for w, h, flags in ((1, 1, 0), (3, 5, 1), (7, 2, 2), (16, 9, 7)):
            out["%s-%dx%d-%d" % (name, w, h, flags)] = (
                struct.pack("<bii4B", fmt, w, h, fmt % 3, flags & 1, 255, flags)
                + pixels)
    out["format-6"] = struct.pack("<bii4B", 6, 4, 4, 0, 0, 128, 0) + pixels
    out["format-negative"] = struct.pack("<bii4B", -1, 4, 4, 0, 0, 128, 0)
    out["width-0"] = struct.pack("<bii4B", 0, 0, 4, 0, 0, 128, 0)
    out["height-negative"] = struct.pack("<bii4B", 0, 4, -4, 0, 0, 128, 0)
    out["largest"] = struct.pack("<bii4B", 3, 32768, 32768, 0, 0, 128, 0)
    out["too-wide"] = struct.pack("<bii4B", 5, 32769, 1, 0, 0, 128, 0)
    out["matrix-range-invalid"] = struct.pack("<bii4B", 3, 5, 3, 200, 9, 77, 1) + pixels
    return out


# ---- device strings (fuzz_device.c) ------------------------------------------------------

def devices():
    def dev(kind, name, api11=True, flags=0x3, count=1):
        return struct.pack("<4B16s", kind, int(api11), flags, count, name.encode())
    llvmpipe = dev(4, "llvmpipe (LLVM)")
    nvidia = dev(2, "NVIDIA H100")
    intel = dev(1, "Intel(R) Xe")
    no_compute = dev(2, "GFX only", flags=0x1)
    old = dev(2, "Old GPU", api11=False)
    out = {}
    for name, devs, want in (
            ("default-discrete", [llvmpipe, intel, nvidia], ""),
            ("default-none", [], ""),
            ("index-2", [llvmpipe, intel, nvidia], "2"),
            ("index-past-end", [llvmpipe], "7"),
            ("index-spaces-sign", [llvmpipe, nvidia], " +1"),
            ("index-huge", [llvmpipe], "99999999999999999999999"),
            ("index-minus", [llvmpipe], "-1"),
            ("name-nocase", [llvmpipe, nvidia], "nViDiA"),
            ("name-no-match", [llvmpipe, nvidia], "AMD"),
            ("name-longer-than-any", [llvmpipe], "llvmpipe (LLVM) and more"),
            ("skips-no-compute", [no_compute, old, llvmpipe], ""),
            ("name-of-no-compute", [no_compute, llvmpipe], "GFX"),
            ("name-utf8", [dev(2, "GPU \u00e9")], "\u00c9"),
            ("long-string", [llvmpipe], "x" * 3000)):
        out[name] = bytes([len(devs)]) + b"".join(devs) + want.encode()
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    models = {"valid-tiny": tiny(), "valid-small": small(),
              "valid-residual": residual(), "valid-compact": compact(),
              "valid-every-op": every_op_chained(), "valid-winograd": winograd(),
              "valid-metadata": metadata()}
    files = {("model", k + ".bin"): v.bytes() for k, v in models.items()}
    files.update({("model", "bad-" + k + ".bin"): v for k, v in broken().items()})
    files.update({("frame", k): v for k, v in frames().items()})
    files.update({("device", k): v for k, v in devices().items()})
    for (d, name), data in sorted(files.items()):
        os.makedirs(os.path.join(root, d), exist_ok=True)
        with open(os.path.join(root, d, name), "wb") as f:
            f.write(data)
    print("%d files, %d bytes" % (len(files), sum(map(len, files.values()))))


if __name__ == "__main__":
    main()
