// Who signs: an injected EIP-1193 wallet (window.ethereum), or, on a local anvil (chain id 1337) only, one
// of anvil's development accounts through a viem local account. The development mnemonic is public: those
// keys are worthless anywhere else, and the page refuses to use them on any other chain.

import {
  BaseError,
  ContractFunctionRevertedError,
  createWalletClient,
  custom,
  http,
  InsufficientFundsError,
  numberToHex,
  UserRejectedRequestError,
  type Address,
  type Chain,
  type EIP1193Provider,
  type WalletClient,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { LOCAL_CHAIN_ID } from "./chain.ts";

export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const DEV_ACCOUNTS = 10;

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

export type SignerChoice = { kind: "injected" } | { kind: "dev"; index: number };

export interface Signer {
  wallet: WalletClient;
  address: Address;
  label: string;
}

export class WalletProblem extends Error {
  constructor(
    message: string,
    readonly kind:
      | "rejected"
      | "wrong-network"
      | "no-wallet"
      | "not-connected"
      | "funds"
      | "allowance"
      | "reverted"
      | "other",
  ) {
    super(message);
  }
}

export function hasInjected(): boolean {
  return typeof window.ethereum?.request === "function";
}

export function devAddress(index: number): Address {
  return mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).address;
}

/** A signer for `choice`. For a browser wallet, `prompt` asks it to share an account (on a click); without
 * it only an account already shared with this page is used, so opening the page pops nothing up. */
export async function connect(choice: SignerChoice, chain: Chain, rpcUrl: string, prompt = false): Promise<Signer> {
  if (choice.kind === "dev") {
    if (chain.id !== LOCAL_CHAIN_ID) {
      throw new WalletProblem(
        `Development accounts work only on a local anvil (chain id ${LOCAL_CHAIN_ID}); this deployment is on chain ${chain.id}. Use a wallet.`,
        "wrong-network",
      );
    }
    const account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: choice.index });
    const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
    return { wallet, address: account.address, label: `anvil account #${choice.index}` };
  }
  const provider = window.ethereum;
  if (!provider) {
    throw new WalletProblem("No browser wallet found (window.ethereum). Install one, or use an anvil account on a local chain.", "no-wallet");
  }
  let addresses: Address[];
  try {
    addresses = (await provider.request({ method: prompt ? "eth_requestAccounts" : "eth_accounts" })) as Address[];
  } catch (err) {
    throw explain(err);
  }
  if (!addresses.length) {
    throw new WalletProblem(
      prompt ? "The wallet shared no account with this page." : "Connect your wallet to post from it.",
      prompt ? "no-wallet" : "not-connected",
    );
  }
  const wallet = createWalletClient({ account: addresses[0], chain, transport: custom(provider) });
  const walletChain = await wallet.getChainId();
  if (walletChain !== chain.id) {
    throw new WalletProblem(
      `Your wallet is on chain ${walletChain}, but this deployment is on chain ${chain.id} (${chain.name}). Switch the wallet's network.`,
      "wrong-network",
    );
  }
  return { wallet, address: addresses[0], label: "browser wallet" };
}

/** Ask the injected wallet to switch to (or add) the deployment's chain. */
export async function switchNetwork(chain: Chain): Promise<void> {
  const provider = window.ethereum;
  if (!provider) throw new WalletProblem("No browser wallet found.", "no-wallet");
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: numberToHex(chain.id) }] });
  } catch (err) {
    if ((err as { code?: number }).code === 4902) {
      await provider.request({
        method: "wallet_addEthereumChain",
        params: [{
          chainId: numberToHex(chain.id),
          chainName: chain.name,
          nativeCurrency: chain.nativeCurrency,
          rpcUrls: [...chain.rpcUrls.default.http],
        }],
      });
      return;
    }
    throw explain(err);
  }
}

/** A user-facing WalletProblem for whatever a wallet or the node threw. */
export function explain(err: unknown): WalletProblem {
  if (err instanceof WalletProblem) return err;
  const code = (err as { code?: number }).code;
  if (err instanceof BaseError) {
    if (err.walk((e) => e instanceof UserRejectedRequestError) || code === 4001) {
      return new WalletProblem("You rejected the request in your wallet; nothing was sent.", "rejected");
    }
    if (err.walk((e) => e instanceof InsufficientFundsError)) {
      return new WalletProblem("The account has too little ETH to pay for gas. Fund it and try again.", "funds");
    }
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (revert) {
      const reason = revert.reason ?? revert.shortMessage;
      return new WalletProblem(`The contract refused: ${reason}`, "reverted");
    }
    if (/chain ?id|network/i.test(err.shortMessage) && /mismatch|does not match/i.test(err.message)) {
      return new WalletProblem(`Wrong network: ${err.shortMessage}`, "wrong-network");
    }
    return new WalletProblem(err.shortMessage, "other");
  }
  if (code === 4001) return new WalletProblem("You rejected the request in your wallet; nothing was sent.", "rejected");
  return new WalletProblem(err instanceof Error ? err.message.split("\n")[0] : String(err), "other");
}
