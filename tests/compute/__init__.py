"""Tests of offchain.compute: specs, workloads, the runner and its failure modes."""
