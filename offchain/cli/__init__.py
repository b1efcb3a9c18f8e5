"""The `tessera` command line: one entry point for operators, requesters and the demo.

One module per command group (``chain``, ``deploy``, ``ipfs``, ``operator``, ``job``, ``rewards``,
``worker``, ``dashboard``, ``demo``), each a thin shell over a library function (`offchain.devchain`,
`offchain.deploy_script`, `offchain.ipfs`, `offchain.requester`, `offchain.worker`, `offchain.dashboard`,
`offchain.demo`): it parses arguments, uses the one `Settings` made in the root callback (``app``), shows
progress on long work and prints the result. Heavy modules (web3, torch) are imported inside the commands
that need them, so `--help` stays fast.

A `TesseraError` reaching the top is printed as its one-line message (``E_CODE: what. Next: what to do``)
on stderr and the process exits with status 2; nothing a user can cause prints a traceback. Machine-readable
output (a CID, a job id) goes to stdout alone; everything else goes to stderr.
"""

from offchain.cli.app import app, main

__all__ = ["app", "main"]
