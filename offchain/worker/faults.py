"""Test-only fault hook: kill the worker with SIGKILL at a named checkpoint.

`checkpoint(name)` does nothing unless the environment variable ``TESSERA_FAULT_CHECKPOINT`` equals
``name``; then the process sends itself SIGKILL on the spot (no cleanup, no flush, no atexit), as a power
cut or the OOM killer would. It exists for the crash tests in ``tests/faults/`` and is **not** a setting:
it is read here only, never through `offchain.settings.Settings`, and operators must leave it unset.

Checkpoints (where the calls sit):

* ``after_fetch``   `Pipeline._compute`: the inputs are on disk, compute has not started;
* ``after_compute`` `Pipeline._compute`: the result exists, the ledger still says CLAIMED;
* ``after_upload``  `Pipeline._upload`: the result is in IPFS, the ledger still says COMPUTED;
* ``<fn>_signed``   `TxManager.send`: the signed bytes are in the store, not yet broadcast
  (``commit_signed``, ``claim_signed``, ``reveal_and_finalize_signed``, ...);
* ``<fn>_sent``     `TxManager.send`: broadcast, no receipt looked for yet (``commit_sent``,
  ``reveal_and_finalize_sent``: the reveal step's transaction since it settles the last reveal owed);
* ``<fn>_mined``    `TxManager._settle`: the receipt was found and recorded (``commit_mined``).

``<fn>`` is the contract function of the transaction's `Call` label (``commit(7, 0x..)`` -> ``commit``).
The chain layer knows nothing of this module: the worker passes `checkpoint` to its `TxManager` as the
``checkpoint`` callback, which names the transaction checkpoints itself.
"""

from __future__ import annotations

import os
import signal

ENV = "TESSERA_FAULT_CHECKPOINT"

CHECKPOINTS = (
    "after_fetch",
    "after_compute",
    "after_upload",
    "commit_signed",
    "commit_sent",
    "commit_mined",
    "reveal_and_finalize_sent",
)


def checkpoint(name: str) -> None:
    """SIGKILL this process if ``TESSERA_FAULT_CHECKPOINT`` names ``name``; otherwise return at once."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
