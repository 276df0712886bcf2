"""A progress bar with the losses on stderr, without a dependency: redrawn
in place on a terminal, a line every 5% (and at the end) otherwise, so that
a log file stays short."""

import sys
import time


def _fmt(v):
    return "%.3g" % v


class Progress:
    def __init__(self, total, done=0, stream=sys.stderr, width=24):
        self.total = total
        self.start_done = done
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self.t0 = time.monotonic()
        self.every = max(1, total // 20)

    def rate(self, done):
        dt = time.monotonic() - self.t0
        return (done - self.start_done) / dt if dt > 0 else 0.0

    def update(self, done, epoch, epochs, losses):
        """done: iterations finished; losses: (total, content, style, tv)."""
        if not self.tty and done % self.every and done != self.total:
            return
        frac = done / self.total if self.total else 1.0
        fill = int(frac * self.width)
        rate = self.rate(done)
        left = (self.total - done) / rate if rate > 0 else 0.0
        total, content, style, tv = losses
        line = ("[%s%s] %d/%d epoch %d/%d %.2f it/s eta %dm%02ds | total %s "
                "content %s style %s tv %s"
                % ("#" * fill, "." * (self.width - fill), done, self.total,
                   epoch + 1, epochs, rate, left // 60, left % 60,
                   _fmt(total), _fmt(content), _fmt(style), _fmt(tv)))
        if self.tty:
            self.stream.write("\r\033[K" + line)
            if done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, text):
        """A line of its own that does not break the bar."""
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()
