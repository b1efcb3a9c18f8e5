# pragma version 0.4.3
"""
@title Tessera protocol constants
@custom:contract-name constants
@license GNU Affero General Public License v3.0 only
@notice The protocol facts every contract and the off-chain code share, typed once here. `make abi`
        (scripts/gen_abi.py) writes them to `offchain/chain/protocol.py` for the Python side.
@dev Stateless: a contract imports it (`from modules import constants`), reads `constants.BPS`, and
     exports the getters it wants in its ABI (`exports: constants.COMPLETED`).
     Naming rules the generator relies on: the `uint8` constants are job phases, except the slash reasons
     (prefixed `REASON_`); the phases from `COMPLETED` on are terminal (no function accepts the job).
"""

# ---------------------------------------------------------------- constants
BPS: public(constant(uint256)) = 10_000  # basis points in a whole
MAX_REPLICAS: public(constant(uint256)) = 8  # replica slots per job, all rounds together; bounds every per-job loop
MAX_POSTED_REPLICAS: public(constant(uint256)) = 5  # replicas a job may ask for: leaves room to escalate once
MIN_ESCALATION_REPLICAS: public(constant(uint256)) = 3  # smallest escalation round (quorum 2)
ESCALATION_STEP: public(constant(uint256)) = 2  # an escalation round has this many more replicas than the last
MAX_ROUND: public(constant(uint256)) = 2  # rounds are 0 (as posted), 1 and 2 (escalations)
SELECTION_WIDENING: public(constant(uint256)) = 15  # the selection threshold grows to 16x by the claim deadline

# Job phases. Stored states, plus COMMITTING and REVEALING that `get_job().phase` derives from time and counts.
UNKNOWN: public(constant(uint8)) = 0  # no such job
OPEN: public(constant(uint8)) = 1
CLAIMED: public(constant(uint8)) = 2
COMMITTING: public(constant(uint8)) = 3
REVEALING: public(constant(uint8)) = 4
COMPLETED: public(constant(uint8)) = 5
FAILED: public(constant(uint8)) = 6
CANCELLED: public(constant(uint8)) = 7
EXPIRED: public(constant(uint8)) = 8

# Slash reasons (`Staking.slash`, `OperatorSlashed.reason`).
REASON_WRONG_RESULT: public(constant(uint8)) = 1  # revealed a result the quorum rejected: slashed and jailed
REASON_LIVENESS: public(constant(uint8)) = 2  # claimed and did not commit
REASON_WITHHELD: public(constant(uint8)) = 3  # committed and did not reveal: slashed like a wrong result, jailed
