"""The oracle worker: the ledger, the per-job pipeline and the `Worker` service that runs them."""
