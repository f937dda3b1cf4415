"""The eventscope explorer: the Textual app and the `eventscope` command."""
