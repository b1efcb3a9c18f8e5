"""`offchain.deployment.DeployBackend` over titanoboa: the contract tests deploy and wire the four
contracts with the same sequence as `scripts/deploy.py` (call it inside ``boa.env.prank(deployer)``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class BoaBackend:
    """Deploys with titanoboa deployers (`boa.load_partial`) by name; calls as the pranked sender."""

    def __init__(self, deployers: Mapping[str, Any]) -> None:
        self.deployers = deployers

    def deploy(self, name: str, args: tuple[Any, ...]) -> Any:
        return self.deployers[name].deploy(*args)

    def address(self, contract: Any) -> str:
        return str(contract.address)

    def call(self, contract: Any, function: str, args: tuple[Any, ...]) -> Any:
        return getattr(contract, function)(*args)
