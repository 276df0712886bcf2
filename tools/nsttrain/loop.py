"""The training loop: batches of content images through the transformer,
the perceptual loss, Adam; the loss log, checkpoints and the outputs."""

import hashlib
import math
import os
import time

import torch

from . import checkpoint
from .errors import TrainError
from .images import ContentImages, load_style
from .losses import PerceptualLoss
from .progress import Progress
from .transformer import TransformerNet
from .vgg import load_vgg

CSV_HEADER = "iteration,epoch,content,style,tv,total\n"


def pick_device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda: this PyTorch sees no CUDA device "
                         "(torch %s, CUDA build %s)"
                         % (torch.__version__, torch.version.cuda or "none"))
    return torch.device(name)


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def epoch_batches(n, batch_size, seed, epoch):
    """The batches (lists of image indices) of an epoch: a shuffle that
    depends only on the seed and the epoch, so that a resumed run draws the
    same batches as an uninterrupted one."""
    g = torch.Generator().manual_seed(seed * 1000003 + epoch)
    order = torch.randperm(n, generator=g).tolist()
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def read_log(path, upto):
    """The loss log's rows up to iteration upto (those a resume keeps)."""
    rows = []
    try:
        with open(path) as f:
            for line in f:
                first = line.split(",", 1)[0]
                if first.isdigit() and int(first) <= upto:
                    rows.append(line)
    except FileNotFoundError:
        pass
    return rows


class Trainer:
    def __init__(self, args):
        """args: tools/train's options, with paths (the content images) and
        vgg_path (the VGG weights, None for --random-vgg) found."""
        self.args = args
        self.device = pick_device(args.device)
        if args.threads:
            torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)

        self.paths = args.paths
        style = load_style(args.style, args.style_size)
        if args.random_vgg:
            vgg, self.vgg_desc = load_vgg(random_seed=args.seed)
        else:
            vgg, self.vgg_desc = load_vgg(args.vgg_path)
        vgg = vgg.to(self.device)
        self.loss = PerceptualLoss(vgg, style.to(self.device),
                                   args.content_weight, args.style_weight,
                                   args.tv_weight)
        self.model = TransformerNet().to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), args.lr)
        self.data = ContentImages(self.paths, args.size)
        self.per_epoch = math.ceil(len(self.paths) / args.batch_size)
        self.total = self.per_epoch * args.epochs
        self.config = {
            "seed": args.seed, "size": args.size,
            "batch_size": args.batch_size, "content_count": len(self.paths),
            "style": file_sha256(args.style), "style_size": args.style_size,
            "content_weight": args.content_weight,
            "style_weight": args.style_weight, "tv_weight": args.tv_weight,
            "lr": args.lr, "vgg": self.vgg_desc,
        }
        self.iteration = 0
        if args.resume:
            path, ckpt = checkpoint.load(args.resume, self.config)
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.iteration = ckpt["iteration"]
            self.resumed_from = path
        if self.iteration > self.total:
            raise TrainError("--resume: the checkpoint is at iteration %d, "
                             "past the %d of --epochs %d"
                             % (self.iteration, self.total, args.epochs))

    def batches(self):
        """(epoch, batch) from the current iteration on."""
        loader_args = dict(num_workers=self.args.workers,
                           pin_memory=self.device.type == "cuda")
        for epoch in range(self.iteration // self.per_epoch,
                           self.args.epochs):
            todo = epoch_batches(len(self.paths), self.args.batch_size,
                                 self.args.seed, epoch)
            todo = todo[self.iteration - epoch * self.per_epoch:]
            loader = torch.utils.data.DataLoader(
                self.data, batch_sampler=todo, **loader_args)
            for batch in loader:
                yield epoch, batch

    def step(self, x):
        x = x.to(self.device, non_blocking=True)
        self.optimizer.zero_grad(set_to_none=True)
        y = self.model(x)
        total, content, style, tv = self.loss(x, y)
        if not torch.isfinite(total):
            raise TrainError("the loss is %s at iteration %d: lower --lr or "
                             "the loss weights" % (total.item(),
                                                   self.iteration + 1))
        total.backward()
        self.optimizer.step()
        return tuple(float(v) for v in (total, content, style, tv))

    def run(self, export):
        """export(state_dict, path, iteration) writes a style.bin."""
        self.export = export
        a = self.args
        rows = read_log(a.loss_log, self.iteration) if a.resume else []
        os.makedirs(os.path.dirname(os.path.abspath(a.loss_log)),
                    exist_ok=True)
        log = open(a.loss_log, "w")
        log.write(CSV_HEADER)
        log.writelines(rows)
        bar = Progress(self.total, self.iteration)
        if a.resume:
            bar.message("resumed from %s at iteration %d"
                        % (self.resumed_from, self.iteration))
        t0 = time.monotonic()
        start = self.iteration
        self.model.train()
        with log:
            for epoch, x in self.batches():
                losses = self.step(x)
                self.iteration += 1
                log.write("%d,%d,%.9g,%.9g,%.9g,%.9g\n"
                          % ((self.iteration, epoch + 1) + losses[1:]
                             + losses[:1]))
                log.flush()
                bar.update(self.iteration, epoch, a.epochs, losses)
                if (a.checkpoint_dir and a.checkpoint_every
                        and self.iteration % a.checkpoint_every == 0
                        and self.iteration != self.total):
                    self.save_checkpoint(bar)
        seconds = time.monotonic() - t0
        if a.checkpoint_dir:
            self.save_checkpoint(bar)
        self.model.eval()
        state = self.model.state_dict()
        torch.save(state, a.pth)
        self.export(state, a.output, self.iteration)
        done = self.iteration - start
        bar.message("%d iterations in %.1f s (%.2f it/s, %s, %d images of "
                    "%dx%d a batch of %d); wrote %s and %s; loss log %s"
                    % (done, seconds, done / seconds if seconds else 0.0,
                       self.device, len(self.paths), a.size, a.size,
                       a.batch_size, a.output, a.pth, a.loss_log))

    def save_checkpoint(self, bar):
        path = checkpoint.save(self.args.checkpoint_dir, self.model,
                               self.optimizer, self.iteration, self.config)
        # a style.bin beside it, to look at how training goes
        self.export(self.model.state_dict(), path[:-3] + ".bin",
                    self.iteration)
        bar.message("checkpoint %s (+ .bin)" % path)
