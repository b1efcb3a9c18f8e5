"""Development accounts and raw transactions against a local chain, outside any `TxManager`.

Actors are named by role: ``governance`` (deployer, account 0), ``operator``, ``requester``,
``stranger``. Their keys are anvil's public development accounts.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.devchain import DEV_MNEMONIC

TSR = 10**18


def dev_account(index: int) -> LocalAccount:
    """anvil's public development account ``index`` (local chains only)."""
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    """A raw JSON-RPC call (anvil_* / evm_* methods web3 has no wrapper for)."""
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method}: {response['error']}")
    return response.get("result")


def send_raw(w3: Web3, account: LocalAccount, tx: dict[str, Any]) -> bytes:
    """Sign and send a transaction outside any TxManager (an 'external' sender); returns its hash."""
    tx = {
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "gas": 300_000,
        "maxFeePerGas": 10 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "value": 0,
        **tx,
    }
    signed = account.sign_transaction(tx)
    return bytes(w3.eth.send_raw_transaction(signed.raw_transaction))


def deploy(w3: Web3, account: LocalAccount, abi: list, bytecode: str, *args: Any) -> tuple[str, int, bytes]:
    """Deploy a contract with web3; returns (address, block, tx hash)."""
    data = (
        w3.eth.contract(abi=abi, bytecode=bytecode)
        .constructor(*args)
        .build_transaction(
            {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
        )["data"]
    )
    tx_hash = send_raw(w3, account, {"data": data, "gas": 8_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    return receipt["contractAddress"], int(receipt["blockNumber"]), tx_hash


def transact(w3: Web3, account: LocalAccount, contract: Any, fn: str, *args: Any) -> Any:
    """Call ``fn`` as ``account`` outside the worker (setup steps of a test) and wait for it."""
    data = contract.encode_abi(fn, args=list(args))
    tx_hash = send_raw(w3, account, {"to": contract.address, "data": data, "gas": 1_000_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, f"{fn}{args} reverted"
    return receipt


def reverted_blocks(w3: Web3, senders: set[str], first_block: int) -> list[int]:
    """The blocks from ``first_block`` on holding a failed transaction sent by one of ``senders``."""
    found = []
    for number in range(first_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] in senders and w3.eth.get_transaction_receipt(tx["hash"])["status"] != 1:
                found.append(number)
    return found
