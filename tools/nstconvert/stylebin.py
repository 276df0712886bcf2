"""style.bin, version 1 (docs/style-bin.md): the Graph builder that importers
fill and the writer. Independent of any source format."""

import array
import math
import os
import struct
import sys


FORMAT_VERSION = 1
MAGIC = b"NSTSTYLE"
HEADER_SIZE = 96
TENSOR_RECORD = 80
LAYER_RECORD = 64
TENSOR_NAME_SIZE = 40
TENSOR_NONE = 0xFFFFFFFF

OP_CONV = 1
OP_CONV_TRANSPOSE = 2
OP_UPSAMPLE = 3
OP_INSTANCE_NORM = 4
OP_RELU = 5
OP_ADD = 6
OP_OUTPUT = 7

PAD_SAME = 0
PAD_SYMMETRIC = 1
PAD_REFLECT = 2

DTYPE_FLOAT32 = 0
DTYPE_FLOAT16 = 1
DTYPE_SIZE = {DTYPE_FLOAT32: 4, DTYPE_FLOAT16: 2}

ORDER_RGB = 0
ORDER_BGR = 1

FLAG_TANH = 1

REQUIRED_META = ("name", "source", "license")


class ConvertError(Exception):
    """A problem with the input or the network; the message says which."""


class Tensor:
    def __init__(self, name, shape, values, dtype=DTYPE_FLOAT32):
        self.name = name
        self.shape = list(shape)
        self.values = values  # a sequence of floats, C order
        self.dtype = dtype


class Layer:
    def __init__(self, op, input0, in_ch, out_ch, input1=-1,
                 tensor0=TENSOR_NONE, tensor1=TENSOR_NONE, kernel=0,
                 stride=0, padding=0, flags=0, f=(0.0, 0.0, 0.0, 0.0)):
        self.op = op
        self.flags = flags
        self.inputs = (input0, input1)
        self.tensors = (tensor0, tensor1)
        self.in_ch = in_ch
        self.out_ch = out_ch
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.f = tuple(f)


class Graph:
    """Builds the tensor and layer tables in execution order.

    Every method returns the index of the layer it appends, which is what
    later layers take as input; -1 is the network input (3 channels).
    """

    INPUT = -1

    def __init__(self):
        self.tensors = []
        self.layers = []

    def channels(self, x):
        return 3 if x == self.INPUT else self.layers[x].out_ch

    def _tensor(self, name, shape, values):
        if values is None:
            return TENSOR_NONE
        self.tensors.append(Tensor(name, shape, values))
        return len(self.tensors) - 1

    def _layer(self, layer):
        self.layers.append(layer)
        return len(self.layers) - 1

    def conv(self, x, name, weight, kernel, out_ch, stride=1,
             padding=PAD_SAME, bias=None):
        """weight: [kernel, kernel, in, out] (HWIO)."""
        in_ch = self.channels(x)
        w = self._tensor(name + ".weight", [kernel, kernel, in_ch, out_ch],
                         weight)
        b = self._tensor(name + ".bias", [out_ch], bias)
        return self._layer(Layer(OP_CONV, x, in_ch, out_ch, tensor0=w,
                                 tensor1=b, kernel=kernel, stride=stride,
                                 padding=padding))

    def conv_transpose(self, x, name, weight, kernel, out_ch, stride,
                       bias=None):
        """weight: [kernel, kernel, out, in] (TensorFlow's layout)."""
        in_ch = self.channels(x)
        w = self._tensor(name + ".weight", [kernel, kernel, out_ch, in_ch],
                         weight)
        b = self._tensor(name + ".bias", [out_ch], bias)
        return self._layer(Layer(OP_CONV_TRANSPOSE, x, in_ch, out_ch,
                                 tensor0=w, tensor1=b, kernel=kernel,
                                 stride=stride, padding=PAD_SAME))

    def instance_norm(self, x, name, scale, shift, eps):
        ch = self.channels(x)
        s = self._tensor(name + ".scale", [ch], scale)
        t = self._tensor(name + ".shift", [ch], shift)
        return self._layer(Layer(OP_INSTANCE_NORM, x, ch, ch, tensor0=s,
                                 tensor1=t, f=(eps, 0.0, 0.0, 0.0)))

    def relu(self, x):
        ch = self.channels(x)
        return self._layer(Layer(OP_RELU, x, ch, ch))

    def upsample(self, x, factor):
        ch = self.channels(x)
        return self._layer(Layer(OP_UPSAMPLE, x, ch, ch, stride=factor))

    def add(self, x, y):
        ch = self.channels(x)
        if self.channels(y) != ch:
            raise ConvertError("add of %d and %d channels"
                               % (ch, self.channels(y)))
        return self._layer(Layer(OP_ADD, x, ch, ch, input1=y))

    def output(self, x, tanh, mul, add, lo, hi):
        if self.channels(x) != 3:
            raise ConvertError("the output layer takes %d channels, not 3"
                               % self.channels(x))
        return self._layer(Layer(OP_OUTPUT, x, 3, 3,
                                 flags=FLAG_TANH if tanh else 0,
                                 f=(mul, add, lo, hi)))


def _align(n, alignment):
    return (n + alignment - 1) // alignment * alignment


def _utf8(text, what, max_len):
    data = text.encode("utf-8")
    if b"\0" in data:
        raise ConvertError("%s contains a NUL character" % what)
    if len(data) > max_len:
        raise ConvertError("%s is %d bytes long, at most %d are allowed"
                           % (what, len(data), max_len))
    return data


def _pack_meta(meta):
    keys = [k for k, _ in meta]
    for k in REQUIRED_META:
        if k not in keys:
            raise ConvertError("metadata key '%s' is required" % k)
    if len(set(keys)) != len(keys):
        raise ConvertError("metadata keys are not unique: %s" % keys)
    if len(meta) > 64:
        raise ConvertError("%d metadata entries, at most 64" % len(meta))
    out = bytearray()
    for key, value in meta:
        k = _utf8(key, "metadata key '%s'" % key, 64)
        v = _utf8(value, "metadata value of '%s'" % key, 4096)
        if not k:
            raise ConvertError("empty metadata key")
        out += struct.pack("<I", len(k)) + k + struct.pack("<I", len(v)) + v
    return bytes(out)


def _pack_values(tensor):
    """Tensor data as little-endian bytes of its dtype."""
    values = tensor.values
    count = 1
    for d in tensor.shape:
        count *= d
    if len(values) != count:
        raise ConvertError("tensor '%s' has %d values, its shape %s needs %d"
                           % (tensor.name, len(values), tensor.shape, count))
    if not all(math.isfinite(v) for v in values):
        raise ConvertError("tensor '%s' holds a value that is not finite"
                           % tensor.name)
    if tensor.dtype == DTYPE_FLOAT16:
        try:
            return struct.pack("<%de" % count, *values)
        except (OverflowError, struct.error):
            raise ConvertError("tensor '%s' does not fit in float16"
                               % tensor.name)
    if tensor.dtype != DTYPE_FLOAT32:
        raise ConvertError("tensor '%s': unknown dtype %r"
                           % (tensor.name, tensor.dtype))
    packed = array.array("f", values)
    if packed.itemsize != 4:
        raise ConvertError("this Python's array('f') is not float32")
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def _pack_tensor_record(tensor, offset, nbytes):
    name = _utf8(tensor.name, "tensor name '%s'" % tensor.name,
                 TENSOR_NAME_SIZE - 1)
    if not name:
        raise ConvertError("empty tensor name")
    shape = tensor.shape
    if not 1 <= len(shape) <= 4 or not all(1 <= d <= 65536 for d in shape):
        raise ConvertError("tensor '%s': shape %s is outside 1..4 dimensions "
                           "of 1..65536" % (tensor.name, shape))
    shape4 = list(shape) + [1] * (4 - len(shape))
    return (name.ljust(TENSOR_NAME_SIZE, b"\0")
            + struct.pack("<II4IQQ", tensor.dtype, len(shape), *shape4,
                          offset, nbytes))


def _pack_layer_record(layer):
    return struct.pack("<IIiiIIIIIIII4f", layer.op, layer.flags,
                       layer.inputs[0], layer.inputs[1], layer.tensors[0],
                       layer.tensors[1], layer.in_ch, layer.out_ch,
                       layer.kernel, layer.stride, layer.padding, 0,
                       *layer.f)


def build_style_bin(meta, tensors, layers, input_order=ORDER_RGB,
                    input_range=(0.0, 255.0), alignment=64):
    """The bytes of a style.bin.

    meta: [(key, value)] in file order; tensors: [Tensor]; layers: [Layer]
    in execution order, the last one the output op. The graph itself is
    checked by the reader (libnst); this checks what the format needs.
    """
    if not 1 <= len(tensors) <= 1024:
        raise ConvertError("%d tensors, the format takes 1..1024"
                           % len(tensors))
    if not 2 <= len(layers) <= 256:
        raise ConvertError("%d layers, the format takes 2..256" % len(layers))
    if alignment < 16 or alignment > 65536 or alignment & (alignment - 1):
        raise ConvertError("alignment %d is not a power of two in 16..65536"
                           % alignment)
    names = [t.name for t in tensors]
    if len(set(names)) != len(names):
        raise ConvertError("tensor names are not unique")

    meta_bytes = _pack_meta(meta)
    meta_offset = HEADER_SIZE
    tensor_offset = _align(meta_offset + len(meta_bytes), 16)
    layer_offset = tensor_offset + len(tensors) * TENSOR_RECORD
    data_offset = _align(layer_offset + len(layers) * LAYER_RECORD, alignment)

    tensor_table = bytearray()
    data = bytearray()
    for t in tensors:
        values = _pack_values(t)
        offset = _align(len(data), alignment)
        data += bytes(offset - len(data)) + values
        tensor_table += _pack_tensor_record(t, offset, len(values))
    layer_table = b"".join(_pack_layer_record(l) for l in layers)

    lo, hi = input_range
    header = struct.pack("<8sIIIIIIQQQQQIff12x", MAGIC, FORMAT_VERSION,
                         HEADER_SIZE, len(meta), len(tensors), len(layers),
                         alignment, meta_offset, tensor_offset, layer_offset,
                         data_offset, len(data), input_order, lo, hi)
    assert len(header) == HEADER_SIZE

    out = bytearray(header)
    for offset, section in ((meta_offset, meta_bytes),
                            (tensor_offset, tensor_table),
                            (layer_offset, layer_table),
                            (data_offset, data)):
        out += bytes(offset - len(out)) + section
    return bytes(out)


def write_style_bin(path, meta, tensors, layers, **kwargs):
    """Writes build_style_bin(...) to path, replacing it only when complete."""
    blob = build_style_bin(meta, tensors, layers, **kwargs)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return len(blob)
