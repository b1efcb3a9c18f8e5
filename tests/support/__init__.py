"""Shared test support: anvil accounts and raw transactions, compiled contracts and a deployer, and a
staked market for worker tests. Importable by tests and benchmarks alike (no pytest fixtures here: the
fixtures that wrap these live in the conftests)."""
