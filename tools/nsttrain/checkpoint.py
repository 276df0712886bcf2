"""Checkpoints: the transformer's and the optimiser's state and where in
the data order training stood, so that --resume continues exactly (same
batches, same Adam moments) as if it had not stopped."""

import glob
import os

import torch

from .errors import TrainError

PATTERN = "ckpt-%08d.pt"
# what fixes the data order and the loss; a resume with other values would
# not continue the same training
MUST_MATCH = ("seed", "size", "batch_size", "content_count", "style",
              "content_weight", "style_weight", "tv_weight", "style_size")


def save(folder, model, optimizer, iteration, config):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, PATTERN % iteration)
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "iteration": iteration,
                "config": config}, tmp)
    os.replace(tmp, path)  # a checkpoint is never seen half written
    return path


def latest(folder):
    found = sorted(glob.glob(os.path.join(folder, "ckpt-*.pt")))
    return found[-1] if found else None


def load(path, config):
    """The checkpoint at path (or the newest in the folder path), checked
    against this run's config."""
    if os.path.isdir(path):
        found = latest(path)
        if found is None:
            raise TrainError("--resume %s: no ckpt-*.pt in that folder" % path)
        path = found
    try:
        # not weights_only: torch 1.13's safe loader refuses the floats in
        # Adam's state; a checkpoint is trusted like code (your own)
        ckpt = torch.load(path, map_location="cpu")
    except FileNotFoundError:
        raise TrainError("--resume %s: no such file" % path)
    except Exception as e:  # torch.load raises many kinds on a bad file
        raise TrainError("--resume %s: not a checkpoint (%s)"
                         % (path, type(e).__name__))
    if not isinstance(ckpt, dict) or not {"model", "optimizer", "iteration",
                                          "config"} <= set(ckpt):
        raise TrainError("--resume %s: not a checkpoint of tools/train" % path)
    for key in MUST_MATCH:
        if ckpt["config"].get(key) != config.get(key):
            raise TrainError("--resume %s: it was trained with %s=%r, this "
                             "run has %r" % (path, key,
                                             ckpt["config"].get(key),
                                             config.get(key)))
    return path, ckpt
