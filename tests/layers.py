"""libnst's layers, checked from its sources (tests/test_layers.sh).

engine/ is a stack of folders; each may include only the ones below it:

    util/    log plumbing, fp16 conversion        nst.h
    gpu/     device, memory, pipelines, dispatch  + util/
    model/   style.bin, layer shapes, tensors     + util/
    net/     the network on the device            + gpu/ model/
    frame/   a frame's pixel, resize and temporal steps  + gpu/ model/
             (frame/path.c alone also net/: it puts them in order)
    engine/  the API: engine.c, async.c, vkframe.c  everything but ref/
    ref/     the C reference, libnst-ref.a        nst.h util/ model/ and
                                                  frame/*_params.h, color.h
                                                  (constants and colour maps
                                                  the shaders' host side
                                                  shares with it)

Every include of an engine header names its folder ("gpu/vk.h"), so that a
line says which layer it reaches into. Also: no include cycle, no file in
engine/ over 700 lines, no two sources of one file name (ar would lose one),
filter/ includes nst.h and no other engine header, and libnst.a holds no
object of ref/ (when NST_BUILD has one).

Prints "ok - NAME" / "not ok - NAME: why".
"""
import os
import re
import subprocess
import sys

ENGINE = "engine"
MAX_LINES = 700
ALLOWED = {
    "util": {"util"},
    "gpu": {"util", "gpu"},
    "model": {"util", "model"},
    "net": {"util", "gpu", "model", "net"},
    "frame": {"util", "gpu", "model", "frame"},
    "": {"util", "gpu", "model", "net", "frame", ""},
    "ref": {"util", "model", "ref"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

failed = 0


def report(name, problems):
    global failed
    if problems:
        failed += 1
        print(f"not ok - {name}: " + "; ".join(problems[:8]) +
              (f" (and {len(problems) - 8} more)" if len(problems) > 8 else ""))
    else:
        print(f"ok - {name}")


def sources(top):
    for d, _, files in os.walk(top):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(d, f), top)


def layer(rel):
    return rel.split("/")[0] if "/" in rel else ""


def allowed(src, inc):
    """Whether engine file src may include engine header inc."""
    if inc == "nst.h":
        return True
    lay, to = layer(src), layer(inc)
    if lay == "frame" and to == "net":
        return src in ("frame/path.c", "frame/path.h")
    if lay == "ref" and to == "frame":
        return inc.endswith("_params.h") or inc == "frame/color.h"
    return to in ALLOWED.get(lay, set())


def main():
    files = list(sources(ENGINE))
    headers = {f for f in files if f.endswith(".h")}
    includes = {}
    for f in files:
        with open(os.path.join(ENGINE, f)) as fh:
            text = fh.read()
        includes[f] = [i for i in INCLUDE.findall(text) if not i.endswith(".spv.h")]

    report("every engine include names its folder (gpu/vk.h)",
           [f"{f}: \"{i}\"" for f in files for i in includes[f] if i not in headers])
    report("each layer includes only the layers below it",
           [f"{f} -> {i}" for f in files for i in includes[f]
            if i in headers and not allowed(f, i)])

    # cycles among modules (x.c with x.h), by depth-first search; a header
    # without a .c of its own (net/ops.h: a folder's internals) is no
    # module: what includes it reaches what it includes
    stems = {os.path.splitext(f)[0] for f in files if f.endswith(".c")}

    def reached(f, seen):
        for i in includes.get(f, []):
            if i not in headers or i in seen:
                continue
            seen.add(i)
            stem = os.path.splitext(i)[0]
            if stem in stems:
                yield stem
            else:
                yield from reached(i, seen)

    deps = {}
    for f in files:
        deps.setdefault(os.path.splitext(f)[0], set()).update(reached(f, set()))
    cycles, state = [], {}

    def visit(m, path):
        state[m] = 1
        for d in sorted(deps.get(m, ())):
            if d == m:
                continue
            if state.get(d) == 1:
                cycles.append(" -> ".join(path[path.index(d):] + [d]))
            elif not state.get(d):
                visit(d, path + [d])
        state[m] = 2

    for m in sorted(deps):
        if not state.get(m):
            visit(m, [m])
    report("no include cycle in engine/", cycles)

    long = []
    for f in files:
        with open(os.path.join(ENGINE, f)) as fh:
            n = sum(1 for _ in fh)
        if n > MAX_LINES:
            long.append(f"{f}: {n} lines")
    report(f"no file in engine/ over {MAX_LINES} lines", long)

    internal = {os.path.basename(h) for h in headers} | headers
    internal.discard("nst.h")
    bad = []
    for f in sources("filter"):
        with open(os.path.join("filter", f)) as fh:
            for i in INCLUDE.findall(fh.read()):
                if i in internal:
                    bad.append(f"filter/{f} -> {i}")
    report("filter/ includes nst.h and no other engine header", bad)

    # ar keeps an object's file name only: two of one name in two folders
    # would replace each other in libnst.a
    names = {}
    for f in files:
        if f.endswith(".c"):
            names.setdefault(os.path.basename(f), []).append(f)
    report("every engine source has a file name of its own (ar keeps no folders)",
           [" and ".join(v) for v in names.values() if len(v) > 1])

    lib = os.path.join(os.environ.get("NST_BUILD", "build"), "libnst.a")
    if os.path.exists(lib):
        members = subprocess.run(["ar", "t", lib], capture_output=True, text=True).stdout.split()
        refs = {os.path.splitext(os.path.basename(f))[0] for f in sources(os.path.join(ENGINE, "ref"))}
        report("libnst.a holds no object of the C reference",
               [m for m in members if os.path.splitext(m)[0] in refs])
    else:
        print(f"# {lib} not built: its members are not checked")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
