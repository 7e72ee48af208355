"""The only module that wires I/O (store, files, notifiers, clock) to the pure pipeline steps.

ingest -> validate -> forecast -> assess -> act -> learn. See ``run_pipeline``.
"""
