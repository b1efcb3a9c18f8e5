// The Hardhat 3 node that tests/interop deploys Tessera to and runs workers against (`hardhat node`
// serves the network named "node"). Every setting is chosen, not inherited:
import { tmpdir } from "node:os";
import { join } from "node:path";

export default {
  networks: {
    node: {
      type: "edr-simulated",
      chainType: "l1",
      // Hardhat's own default, the chain id a user's `npx hardhat node` reports. Unlike anvil's 1337 it is
      // not the chain id ape assumes for ethereum:local, so the deploy must take it from the node.
      chainId: 31337,
      // Osaka enforces EIP-7825: no transaction may carry more than 16,777,216 gas, whatever the block's
      // 60M gas limit (the limit ape put on every deploy transaction before it estimated gas).
      hardfork: "osaka",
      blockGasLimit: 60_000_000,
      // Each transaction is mined at once (the deploy waits for every receipt), and a block follows every
      // second as on a real chain, so the workers' confirmations and deadlines move on. Hardhat never
      // gives two blocks one timestamp: a burst of transactions runs chain time ahead of the wall clock.
      mining: { auto: true, interval: 1000 },
    },
  },
  // `hardhat node` watches <artifacts>/build-info; keep that (empty) folder out of the repository.
  paths: { artifacts: join(tmpdir(), "tessera-hardhat-interop-artifacts") },
};
