"""JSON Lines histories, one event object per line, read in place and never written.

`source.JsonlSource` reads a file through its index (`index`, built by one or two
processes, `parallel`, and kept between runs, `cache`); `export` writes any source in
the same format; `kind.py` registers the format with `store.kinds`.
"""
