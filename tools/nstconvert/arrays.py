"""numpy helpers shared by the importers of PyTorch-layout networks (the
ONNX and the PyTorch importer): weights to the writer's float sequences."""

import array

import numpy as np

from .stylebin import ConvertError


def floats(a, what):
    """a (any numpy-convertible array) as array('f') in C order; refuses
    values that are not finite, naming what they belong to."""
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
    if not np.all(np.isfinite(a)):
        raise ConvertError("%s holds a value that is not finite" % what)
    out = array.array("f")
    out.frombytes(a.astype("=f4", copy=False).tobytes())
    return out


def conv_hwio(w, what):
    """A PyTorch / ONNX conv weight [out, in, kH, kW] (OIHW) in style.bin's
    HWIO layout."""
    w = np.asarray(w)
    if w.ndim != 4:
        raise ConvertError("%s has shape %s, a conv weight has 4 dimensions"
                           % (what, list(w.shape)))
    return floats(w.transpose(2, 3, 1, 0), what)
