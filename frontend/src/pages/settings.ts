// Connection: which RPC and IPFS endpoints the page uses. The server's defaults come from /config.json;
// overrides are kept in this browser (localStorage) and apply after a reload.

import type { Ctx } from "../context.ts";
import { readOverrides, saveOverrides } from "../config.ts";
import { esc } from "../format.ts";

export function settingsPage(ctx: Ctx, root: HTMLElement) {
  root.dataset.page = "settings";
  const s = ctx.config.server;
  const o = readOverrides();
  const m = ctx.config.manifest;
  root.innerHTML = `<h1>Connection</h1>
<dl class="kv-list">
  <dt>Deployment</dt><dd>chain ${esc(m.chain_id)} (${esc(m.network)}), deployed ${esc(m.deployed_at)} by <code>${esc(m.deployer)}</code> with ${esc(m.compiler)}</dd>
  <dt>RPC in use</dt><dd><code>${esc(ctx.config.rpcUrl)}</code></dd>
  <dt>IPFS gateway</dt><dd><code>${esc(ctx.config.gatewayUrl ?? "none")}</code></dd>
  <dt>IPFS RPC (add)</dt><dd><code>${esc(ctx.config.ipfsApiUrl ?? "none")}</code></dd>
</dl>
<form id="settings" class="post">
  <fieldset><legend>Overrides (this browser only)</legend>
    <label>JSON-RPC URL<input name="rpc_url" type="url" placeholder="${esc(s.rpc_url)}" value="${esc(o.rpc_url ?? "")}"></label>
    <label>IPFS gateway URL<input name="gateway_url" type="url" placeholder="${esc(s.gateway_url ?? "")}" value="${esc(o.gateway_url ?? "")}"></label>
    <label>IPFS RPC URL<input name="ipfs_api_url" type="url" placeholder="${esc(s.ipfs_api_url ?? "")}" value="${esc(o.ipfs_api_url ?? "")}"></label>
  </fieldset>
  <div class="actions"><button type="submit">Save and reload</button> <button type="button" id="reset">Use the server's defaults</button></div>
</form>
<p class="muted small">The RPC must be the chain of this deployment (chain id ${esc(m.chain_id)}). The page talks to it and to the gateway directly; the dashboard server proxies nothing.</p>`;
  const form = root.querySelector<HTMLFormElement>("#settings")!;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    saveOverrides({
      rpc_url: String(data.get("rpc_url") ?? ""),
      gateway_url: String(data.get("gateway_url") ?? ""),
      ipfs_api_url: String(data.get("ipfs_api_url") ?? ""),
    });
    location.reload();
  });
  root.querySelector("#reset")!.addEventListener("click", () => {
    saveOverrides({});
    location.reload();
  });
  root.dataset.ready = "1";
}
