"""style.bin from the trained state dict, through nst-convert's PyTorch
importer (nstconvert.torch_import) and writer: one conversion path for
trained and downloaded fast_neural_style networks."""

from nstconvert.stylebin import ConvertError, ORDER_RGB, write_style_bin
from nstconvert.torch_import import graph_from_state_dict

from .errors import TrainError

CONVERTER = "tools/train 1"


def make_exporter(meta_for):
    """meta_for(iteration) -> [(key, value)]; returns
    export(state_dict, path, iteration)."""

    def export(state_dict, path, iteration):
        sd = {k: v.detach().cpu() for k, v in state_dict.items()}
        try:
            g = graph_from_state_dict(sd)
            write_style_bin(path, meta_for(iteration), g.tensors, g.layers,
                            input_order=ORDER_RGB, input_range=(0.0, 255.0),
                            alignment=64)
        except ConvertError as e:
            raise TrainError("cannot export %s: %s" % (path, e))
        except OSError as e:
            raise TrainError("cannot write %s: %s" % (path, e.strerror))

    return export
