"""Compute: versioned job specs, the PyTorch workload registry, and the runner that executes one job.

Modules: ``spec`` (parse, digest, schema, canonical bytes), ``workloads`` (one class per workload),
``runner`` (child process, limits, result), ``child`` (the child's entry point), ``determinism`` and
``tensorio`` (what makes results reproducible and canonical), ``demo_models`` (seeded demo inputs and
example specs), ``errors``. Importing this package imports nothing heavy; torch loads in the child.
"""
