"""nst-convert's importers: each reads one source format into a
stylebin.Graph, which stylebin writes as style.bin (docs/style-bin.md)."""
