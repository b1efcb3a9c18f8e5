// The dashboard's entry point: load the configuration and the deployment, check the RPC is the right chain,
// start the event indexer, and route `#/...` to a page.

import "./style.css";
import { chainFor, contracts, makeClient } from "./chain.ts";
import { abiDrift, loadConfig } from "./config.ts";
import type { Cleanup, Ctx } from "./context.ts";
import { errorMessage, esc } from "./format.ts";
import { Indexer } from "./indexer.ts";
import { jobPage } from "./pages/job.ts";
import { jobsPage } from "./pages/jobs.ts";
import { networkPage } from "./pages/network.ts";
import { operatorsPage } from "./pages/operators.ts";
import { settingsPage } from "./pages/settings.ts";

const app = document.getElementById("app")!;
const banner = document.getElementById("banner")!;
const status = document.getElementById("chain-status")!;

function showBanner(html: string): void {
  banner.innerHTML = html;
  banner.hidden = false;
}

function route(ctx: Ctx): Cleanup | void {
  const [path] = location.hash.replace(/^#\/?/, "").split("?");
  const [section = "", arg = ""] = path.split("/");
  document.querySelectorAll<HTMLAnchorElement>("#nav a").forEach((a) => {
    const active = a.dataset.route === (section || "network");
    a.classList.toggle("active", active);
    if (active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  app.replaceChildren();
  delete app.dataset.ready;
  switch (section) {
    case "":
    case "network":
      return networkPage(ctx, app);
    case "operators":
      return operatorsPage(ctx, app, arg);
    case "jobs":
      return arg ? jobPage(ctx, app, arg) : jobsPage(ctx, app);
    case "post": {
      // the form and its signers (mnemonic, secp256k1) load only when someone posts
      let cleanup: Cleanup | void;
      let left = false;
      void import("./pages/post.ts").then(({ postPage }) => {
        if (!left) cleanup = postPage(ctx, app);
      });
      return () => {
        left = true;
        cleanup?.();
      };
    }
    case "settings":
      return settingsPage(ctx, app);
    default:
      app.dataset.page = "missing";
      app.innerHTML = `<h1>Not found</h1><p><a href="#/">Network</a></p>`;
      return undefined;
  }
}

async function start(): Promise<void> {
  let ctx: Ctx;
  try {
    const config = await loadConfig();
    const client = makeClient(config);
    const chainId = await client.getChainId().catch((err) => {
      throw new Error(`No JSON-RPC node answered at ${config.rpcUrl} (${errorMessage(err)}). Start one (make chain) or change it under Connection.`);
    });
    if (chainId !== config.manifest.chain_id) {
      throw new Error(`The RPC at ${config.rpcUrl} is chain ${chainId}, but the deployment manifest is for chain ${config.manifest.chain_id}. Point the dashboard at the right RPC.`);
    }
    const code = await client.getCode({ address: config.manifest.contracts.JobRegistry.address });
    if (!code || code === "0x") {
      throw new Error(`No contract at the JobRegistry address ${config.manifest.contracts.JobRegistry.address} on chain ${chainId}: the chain was reset since the deployment. Deploy again (make deploy).`);
    }
    const drift = abiDrift(config.manifest);
    if (drift.length) {
      showBanner(`This dashboard was built for other contracts than the deployment's (missing: ${esc(drift.slice(0, 4).join(", "))}). Run <code>make abi frontend</code> and reload.`);
    }
    const indexer = new Indexer(config, client);
    ctx = { config, client, c: contracts(config, client), chain: chainFor(config), indexer };
    indexer.subscribe(() => {
      const head = indexer.head;
      status.textContent = indexer.error ? "RPC unreachable" : head ? `chain ${config.manifest.chain_id} · block ${head.number}` : "";
      status.classList.toggle("down", indexer.error !== null);
      if (indexer.error) showBanner(esc(indexer.error));
      else if (!drift.length) banner.hidden = true;
    });
    await indexer.start();
  } catch (err) {
    app.innerHTML = `<h1>Cannot start</h1><p class="problem" data-testid="start-error">${esc(errorMessage(err))}</p>`;
    app.dataset.page = "error";
    app.dataset.ready = "1";
    return;
  }
  let cleanup: Cleanup | void = route(ctx);
  window.addEventListener("hashchange", () => {
    cleanup?.();
    cleanup = route(ctx);
  });
}

void start();
