"""The explorer's screens. Each reaches data only through `app.source` / `app.engine`, in
thread workers, so the UI never waits on the store."""
