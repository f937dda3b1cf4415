"""The one progress-callback type of every long walk: `progress(done, total)`.

Verify, a JSON Lines index, Message DB's first catalog build, the demo build, a report's
replay: each calls it now and then with what it has done so far and what it will do in
all (events, rows or bytes, as its docstring says), and the CLI draws a bar from it.
This module imports nothing but the standard library, so the bare helper processes
(`store.helper_process`) may import it too.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]
"""Called with (done so far, total); total may grow while a walk learns it."""
