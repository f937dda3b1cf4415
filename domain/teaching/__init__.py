"""Teaching mode: commands with forms made from the aggregates' own methods, a session
that runs them on a sandbox store (rejections, snapshots, concurrency, lagging read
models, upcasting) and scripted lessons that check what the class saw.

Only ever used on a sandbox -- a fresh scratch copy of the demo store made by
`demo_data.sandbox` in eventscope's data folder -- never on evidence.
"""
