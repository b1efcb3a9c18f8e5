"""Tessera off-chain: oracle worker, IPFS layer, PyTorch workloads and the `tessera` CLI."""
