// Post a job: write or drop a spec, set the terms, see the fee split and the deadlines, then sign with a
// browser wallet or (local anvil only) a development account. Before anything is signed the page checks
// the spec against the schema, the terms against the contract's bounds, and the account's TSR balance,
// allowance and ETH; each shortfall gets a message saying what to do.

import { formatUnits, parseEventLogs, parseUnits, type Address } from "viem";
import { jobRegistryAbi, jobRegistryConstants, tesseraTokenAbi } from "../../../abi/index.ts";
import { LOCAL_CHAIN_ID, readParameters, type Parameters } from "../chain.ts";
import type { Ctx } from "../context.ts";
import { bps, clock, duration, errorMessage, esc, relative, short, tsr } from "../format.ts";
import { addFile, fetchChecked, sha256 } from "../ipfs.ts";
import { EXAMPLES, parseSpec, specBytes, SpecProblem, workloadOf, WORKLOADS } from "../spec.ts";
import {
  connect,
  DEV_ACCOUNTS,
  devAddress,
  explain,
  hasInjected,
  switchNetwork,
  WalletProblem,
  type Signer,
  type SignerChoice,
} from "../wallet.ts";

// a job asks for 1..MAX_POSTED_REPLICAS replicas; the rest of the MAX_REPLICAS slots are kept for escalation
const { MIN_WINDOW, MAX_WINDOW, MAX_POSTED_REPLICAS: MAX_REPLICAS, MAX_AMOUNT } = jobRegistryConstants;

interface Terms {
  fee: bigint;
  replicas: bigint;
  quorum: bigint;
  collateral: bigint;
  windows: [bigint, bigint, bigint];
}

interface Account {
  address: Address;
  tsr: bigint;
  allowance: bigint;
  eth: bigint;
}

/** How the fee less the protocol fee is paid out: equally to the agreeing workers. */
function sharing(pool: bigint, terms: Terms): string {
  if (terms.replicas === 1n) return `${tsr(pool)} to the worker`;
  if (terms.quorum === terms.replicas) return `${tsr(pool)} shared by the ${terms.replicas} workers (${tsr(pool / terms.replicas)} each)`;
  return `${tsr(pool)} shared by the ${terms.quorum} to ${terms.replicas} agreeing workers (${tsr(pool / terms.replicas)} to ${tsr(pool / terms.quorum)} each)`;
}

function field(form: HTMLFormElement, name: string): HTMLInputElement {
  return form.elements.namedItem(name) as HTMLInputElement;
}

export function postPage(ctx: Ctx, root: HTMLElement) {
  root.dataset.page = "post";
  const local = ctx.config.manifest.chain_id === LOCAL_CHAIN_ID;
  const injected = hasInjected();
  const signerOptions = [
    ...(injected ? [`<option value="injected">Browser wallet (EIP-1193)</option>`] : []),
    ...(local
      ? Array.from({ length: DEV_ACCOUNTS }, (_, i) => `<option value="dev:${i}">anvil account #${i} · ${short(devAddress(i), 4)}${i === 0 ? " (deployer)" : ""}</option>`)
      : []),
  ];
  root.innerHTML = `<h1>Post a job</h1>
<form id="post-form" class="post" novalidate>
  <fieldset>
    <legend>Sign with</legend>
    ${signerOptions.length ? `<select name="signer" data-testid="signer">${signerOptions.join("")}</select>` : `<p class="problem" data-testid="no-signer">No browser wallet found. Install an EIP-1193 wallet (or, on a local anvil, development accounts appear here).</p>`}
    ${local ? `<p class="muted small">On this local anvil (chain ${LOCAL_CHAIN_ID}) the page can sign with anvil's public development accounts. Never send anything of value to them.</p>` : ""}
    <div id="account" data-testid="account"></div>
  </fieldset>
  <fieldset>
    <legend>Spec</legend>
    <p class="small">Examples: ${WORKLOADS.map((w) => `<button type="button" class="link" data-example="${esc(w)}">${esc(w)}</button>`).join(" · ")}</p>
    <label class="drop" id="drop" data-testid="drop">Drop a spec file here, or <span class="link">choose one</span><input type="file" name="file" accept=".json,application/json" hidden></label>
    <textarea name="spec" rows="9" spellcheck="false" autocomplete="off" aria-label="Spec (JSON)" data-testid="spec">${esc(JSON.stringify(EXAMPLES.matmul, null, 2))}</textarea>
    <p id="spec-status" data-testid="spec-status" class="small"></p>
  </fieldset>
  <fieldset class="terms">
    <legend>Terms</legend>
    <label>Fee (TSR)<input name="fee" inputmode="decimal" value="1" required></label>
    <label>Collateral per replica (TSR)<input name="collateral" inputmode="decimal" value="" required></label>
    <label>Replicas<input name="replicas" type="number" min="1" max="${MAX_REPLICAS}" value="1" required></label>
    <label>Quorum<input name="quorum" type="number" min="1" max="${MAX_REPLICAS}" value="1" required></label>
    <label>Claim window (s)<input name="claim" type="number" min="${MIN_WINDOW}" max="${MAX_WINDOW}" value="120" required></label>
    <label>Commit window (s)<input name="commit" type="number" min="${MIN_WINDOW}" max="${MAX_WINDOW}" value="120" required></label>
    <label>Reveal window (s)<input name="reveal" type="number" min="${MIN_WINDOW}" max="${MAX_WINDOW}" value="120" required></label>
  </fieldset>
  <section id="summary" class="summary" data-testid="summary" aria-live="polite"></section>
  <div class="actions">
    <button type="button" id="connect" data-testid="connect" hidden>Connect wallet</button>
    <button type="button" id="switch" hidden>Switch wallet network</button>
    <button type="button" id="approve" data-testid="approve" hidden>Approve</button>
    <button type="submit" id="post" data-testid="post">Post job</button>
  </div>
  <p id="post-error" class="problem" data-testid="post-error" role="alert" hidden></p>
  <ol id="log" class="log" data-testid="log"></ol>
</form>`;

  const form = root.querySelector<HTMLFormElement>("#post-form")!;
  const summary = root.querySelector<HTMLElement>("#summary")!;
  const specStatus = root.querySelector<HTMLElement>("#spec-status")!;
  const accountBox = root.querySelector<HTMLElement>("#account")!;
  const errorBox = root.querySelector<HTMLElement>("#post-error")!;
  const log = root.querySelector<HTMLOListElement>("#log")!;
  const approveButton = root.querySelector<HTMLButtonElement>("#approve")!;
  const postButton = root.querySelector<HTMLButtonElement>("#post")!;
  const switchButton = root.querySelector<HTMLButtonElement>("#switch")!;
  const connectButton = root.querySelector<HTMLButtonElement>("#connect")!;

  let params: Parameters | null = null;
  let signer: Signer | null = null;
  let account: Account | null = null;
  let busy = false;
  let stopped = false;

  const showError = (message: string, kind = "other") => {
    errorBox.textContent = message;
    errorBox.dataset.kind = kind;
    errorBox.hidden = false;
  };
  const clearError = () => {
    errorBox.hidden = true;
    errorBox.textContent = "";
    delete errorBox.dataset.kind;
  };
  const note = (html: string, testid = "") => {
    const item = document.createElement("li");
    if (testid) item.dataset.testid = testid;
    item.innerHTML = html;
    log.append(item);
  };

  function readSpec(): { spec: Record<string, unknown> | null; problem: string | null } {
    try {
      return { spec: parseSpec(field(form, "spec").value), problem: null };
    } catch (err) {
      return { spec: null, problem: err instanceof SpecProblem ? err.message : errorMessage(err) };
    }
  }

  function readTerms(): { terms: Terms | null; problems: string[] } {
    const problems: string[] = [];
    const tokens = (name: string, label: string) => {
      try {
        const value = parseUnits(field(form, name).value.trim() || "x", 18);
        if (value < 0n) throw new Error();
        return value;
      } catch {
        problems.push(`${label} must be a number of TSR, such as 1.5`);
        return 0n;
      }
    };
    const whole = (name: string, label: string) => {
      const text = field(form, name).value.trim();
      if (!/^\d+$/.test(text)) {
        problems.push(`${label} must be a whole number`);
        return 0n;
      }
      return BigInt(text);
    };
    const terms: Terms = {
      fee: tokens("fee", "The fee"),
      collateral: tokens("collateral", "The collateral"),
      replicas: whole("replicas", "Replicas"),
      quorum: whole("quorum", "The quorum"),
      windows: [whole("claim", "The claim window"), whole("commit", "The commit window"), whole("reveal", "The reveal window")],
    };
    if (params) {
      if (terms.fee < params.minFee) problems.push(`The fee must be at least ${tsr(params.minFee)} (min_fee)`);
      if (terms.collateral < params.minCollateral) problems.push(`The collateral must be at least ${tsr(params.minCollateral)} (min_collateral)`);
    }
    if (terms.fee > MAX_AMOUNT || terms.collateral > MAX_AMOUNT) problems.push("Fee and collateral must be below 2^96 wei");
    if (terms.replicas < 1n || terms.replicas > MAX_REPLICAS) problems.push(`Replicas must be 1 to ${MAX_REPLICAS}`);
    if (terms.quorum * 2n <= terms.replicas || terms.quorum > terms.replicas) {
      problems.push(`The quorum must be a strict majority of the replicas (${terms.replicas / 2n + 1n} to ${terms.replicas} for ${terms.replicas})`);
    }
    terms.windows.forEach((w, i) => {
      if (w < MIN_WINDOW || w > MAX_WINDOW) problems.push(`The ${["claim", "commit", "reveal"][i]} window must be ${MIN_WINDOW} s to ${duration(MAX_WINDOW)}`);
    });
    return { terms: problems.length ? null : terms, problems };
  }

  async function refreshAccount(): Promise<void> {
    if (!signer) {
      account = null;
      return;
    }
    const address = signer.address;
    const [tsrBalance, allowance, eth] = await Promise.all([
      ctx.c.token.read.balanceOf([address]),
      ctx.c.token.read.allowance([address, ctx.c.registry.address]),
      ctx.client.getBalance({ address }),
    ]);
    account = { address, tsr: tsrBalance, allowance, eth };
  }

  function render(): void {
    const { spec, problem } = readSpec();
    specStatus.className = `small ${problem ? "problem" : "ok"}`;
    specStatus.dataset.value = problem ? "invalid" : "valid";
    specStatus.textContent = problem ? `✗ ${problem}` : `✓ a valid ${workloadOf(spec)} spec, ${specBytes(spec!).length} bytes as uploaded`;

    accountBox.innerHTML = account
      ? `<p class="small"><code title="${esc(account.address)}">${esc(short(account.address, 6))}</code> (${esc(signer!.label)}) · <span data-testid="balance" data-value="${account.tsr}">${esc(tsr(account.tsr))}</span> · <span data-testid="allowance" data-value="${account.allowance}">JobRegistry may spend ${esc(tsr(account.allowance))}</span> · ${esc(formatUnits(account.eth, 18).slice(0, 10))} ETH</p>`
      : "";

    const { terms, problems } = readTerms();
    const now = ctx.indexer.head?.timestamp ?? 0n;
    const checks: string[] = [];
    const blockers: string[] = [...problems];
    if (problem) blockers.push(`The spec: ${problem}`);
    let needsApproval = false;
    if (terms && params) {
      const burned = (terms.fee * params.protocolFeeBps) / 10_000n;
      const pool = terms.fee - burned;
      const claim = now + terms.windows[0];
      const commit = claim + terms.windows[1];
      const reveal = commit + terms.windows[2];
      checks.push(`<dl class="kv-list">
  <dt>Fee</dt><dd data-testid="fee" data-value="${terms.fee}">${esc(tsr(terms.fee))}: ${esc(tsr(burned))} burned (protocol fee ${esc(bps(params.protocolFeeBps))}), ${esc(sharing(pool, terms))}</dd>
  <dt>Collateral</dt><dd>each worker locks ${esc(tsr(terms.collateral))}; a wrong result loses ${esc(bps(params.wrongResultSlashBps))} of it, a missed commit or reveal ${esc(bps(params.livenessSlashBps))}</dd>
  <dt>Claims close</dt><dd data-testid="deadline-claim">${esc(clock(claim))} (${esc(relative(claim, now))})</dd>
  <dt>Commits due</dt><dd data-testid="deadline-commit">${esc(clock(commit))} (${esc(relative(commit, now))})</dd>
  <dt>Reveals due</dt><dd data-testid="deadline-reveal">${esc(clock(reveal))} (${esc(relative(reveal, now))})</dd>
  <dt>If it fails</dt><dd>no quorum: the fee is refunded; nobody claims before the claim deadline: anyone can expire it for a refund</dd>
</dl>`);
      if (account) {
        if (account.tsr < terms.fee) {
          blockers.push(`Too little TSR: the balance ${tsr(account.tsr)} is less than the fee ${tsr(terms.fee)}. Get more TSR first.`);
        }
        if (account.allowance < terms.fee) {
          needsApproval = true;
          blockers.push(`Too little allowance: the JobRegistry may spend ${tsr(account.allowance)} of your TSR, the fee is ${tsr(terms.fee)}. Approve ${tsr(terms.fee)} first.`);
        }
        if (account.eth === 0n) blockers.push("No ETH for gas: fund the account first.");
      }
    }
    if (!signer) blockers.push(signerOptions.length ? "Choose who signs." : "No wallet to sign with.");
    summary.innerHTML = `${checks.join("")}${blockers.length ? `<ul class="blockers" data-testid="blockers">${blockers.map((b) => `<li>${esc(b)}</li>`).join("")}</ul>` : `<p class="ok" data-testid="blockers-none">✓ Ready to post.</p>`}`;
    approveButton.hidden = !needsApproval || !terms;
    if (terms) approveButton.textContent = `Approve ${tsr(terms.fee)}`;
    approveButton.disabled = busy;
    postButton.disabled = busy || blockers.length > 0;
    summary.dataset.ready = params && (account || !signer) ? "1" : "0";
  }

  async function chooseSigner(prompt = false): Promise<void> {
    clearError();
    switchButton.hidden = true;
    connectButton.hidden = true;
    const select = form.elements.namedItem("signer") as HTMLSelectElement | null;
    if (!select) return;
    const choice: SignerChoice = select.value === "injected" ? { kind: "injected" } : { kind: "dev", index: Number(select.value.split(":")[1]) };
    signer = null;
    account = null;
    try {
      signer = await connect(choice, ctx.chain, ctx.config.rpcUrl, prompt);
      await refreshAccount();
    } catch (err) {
      const problem = explain(err);
      showError(problem.message, problem.kind);
      switchButton.hidden = problem.kind !== "wrong-network" || choice.kind !== "injected";
      connectButton.hidden = problem.kind !== "not-connected";
    }
    render();
  }

  async function send(action: "approve" | "post"): Promise<void> {
    if (busy) return;
    clearError();
    busy = true;
    render();
    try {
      if (!signer) throw new WalletProblem("Choose who signs first.", "no-wallet");
      if (signer.label === "browser wallet") {
        const walletChain = await signer.wallet.getChainId();
        if (walletChain !== ctx.chain.id) {
          switchButton.hidden = false;
          throw new WalletProblem(`Your wallet is on chain ${walletChain}, but this deployment is on chain ${ctx.chain.id}. Switch the wallet's network.`, "wrong-network");
        }
      }
      const { terms, problems } = readTerms();
      if (!terms) throw new WalletProblem(problems[0], "other");
      await refreshAccount();
      if (account && account.tsr < terms.fee) {
        throw new WalletProblem(`Too little TSR: the balance ${tsr(account.tsr)} is less than the fee ${tsr(terms.fee)}.`, "funds");
      }
      if (action === "approve") {
        note(`Asking ${esc(signer.label)} to approve ${esc(tsr(terms.fee))} for the JobRegistry…`);
        const { request } = await ctx.client.simulateContract({
          account: signer.wallet.account ?? signer.address,
          address: ctx.c.token.address,
          abi: tesseraTokenAbi,
          functionName: "approve",
          args: [ctx.c.registry.address, terms.fee],
        });
        const hash = await signer.wallet.writeContract(request);
        await ctx.client.waitForTransactionReceipt({ hash });
        note(`Approved (<code>${esc(short(hash))}</code>).`, "approved");
        await refreshAccount();
        return;
      }
      if (account && account.allowance < terms.fee) {
        throw new WalletProblem(`Too little allowance: the JobRegistry may spend ${tsr(account.allowance)}; the fee is ${tsr(terms.fee)}. Press “Approve” first.`, "allowance");
      }
      const { spec, problem } = readSpec();
      if (!spec) throw new WalletProblem(`The spec is not valid: ${problem}`, "other");
      const api = ctx.config.ipfsApiUrl;
      if (!api) throw new WalletProblem("No IPFS RPC is configured to upload the spec (see Connection).", "other");
      const bytes = specBytes(spec);
      const digest = await sha256(bytes);
      const cid = await addFile(api, bytes, "spec.json");
      note(`Spec added to IPFS: <code data-testid="spec-cid">${esc(cid)}</code>`);
      if (ctx.config.gatewayUrl) {
        const back = await fetchChecked(ctx.config.gatewayUrl, cid, digest, bytes.length);
        if (!back.matches) throw new WalletProblem(`The gateway serves other bytes for ${cid} than were uploaded.`, "other");
        note("The gateway serves it and its sha256 matches.");
      }
      note(`Asking ${esc(signer.label)} to sign post_job…`);
      const { request } = await ctx.client.simulateContract({
        account: signer.wallet.account ?? signer.address,
        address: ctx.c.registry.address,
        abi: jobRegistryAbi,
        functionName: "post_job",
        args: [cid, digest, terms.fee, terms.replicas, terms.quorum, terms.collateral, ...terms.windows],
      });
      const hash = await signer.wallet.writeContract(request);
      note(`Sent <code>${esc(short(hash))}</code>; waiting for it to be mined…`);
      const receipt = await ctx.client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new WalletProblem(`post_job reverted in ${hash}`, "reverted");
      const [posted] = parseEventLogs({ abi: jobRegistryAbi, eventName: "JobPosted", logs: receipt.logs });
      const id = posted.args.job_id;
      note(`Job <a href="#/jobs/${id}" data-testid="posted-job" data-value="${id}">#${id}</a> posted in block ${receipt.blockNumber} (${receipt.gasUsed.toLocaleString("en")} gas). Workers will pick it up.`);
      await refreshAccount();
      void ctx.indexer.poll();
    } catch (err) {
      const problem = explain(err);
      showError(problem.message, problem.kind);
    } finally {
      busy = false;
      if (!stopped) render();
    }
  }

  function loadFile(file: File): void {
    if (file.size > 1 << 20) {
      showError(`${file.name} is ${file.size.toLocaleString("en")} bytes; a spec is at most 1 MiB.`);
      return;
    }
    void file.text().then((text) => {
      field(form, "spec").value = text;
      clearError();
      render();
    });
  }

  form.addEventListener("input", () => render());
  form.addEventListener("change", (event) => {
    const target = event.target as HTMLElement;
    if (target.getAttribute("name") === "signer") void chooseSigner();
    if (target.getAttribute("name") === "file") {
      const file = (target as HTMLInputElement).files?.[0];
      if (file) loadFile(file);
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void send("post");
  });
  approveButton.addEventListener("click", () => void send("approve"));
  connectButton.addEventListener("click", () => void chooseSigner(true));
  switchButton.addEventListener("click", () => {
    switchNetwork(ctx.chain).then(() => chooseSigner(true), (err) => showError(explain(err).message, "wrong-network"));
  });
  root.querySelectorAll<HTMLButtonElement>("[data-example]").forEach((button) =>
    button.addEventListener("click", () => {
      field(form, "spec").value = JSON.stringify(EXAMPLES[button.dataset.example!], null, 2);
      render();
    }),
  );
  const drop = root.querySelector<HTMLElement>("#drop")!;
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer?.files[0];
    if (file) loadFile(file);
  });

  const unsubscribe = ctx.indexer.subscribe(() => {
    if (busy) return;
    void refreshAccount().then(render, () => render());
  });
  void (async () => {
    params = await readParameters(ctx.c);
    field(form, "collateral").value = formatUnits(params.minCollateral > 0n ? params.minCollateral : 10n ** 18n, 18);
    if (BigInt(Math.round(Number(field(form, "fee").value) * 1e6)) * 10n ** 12n < params.minFee) {
      field(form, "fee").value = formatUnits(params.minFee, 18);
    }
    await chooseSigner();
    root.dataset.ready = "1";
  })().catch((err) => showError(`Could not read the contracts: ${errorMessage(err)}`));
  render();
  return () => {
    stopped = true;
    unsubscribe();
  };
}
