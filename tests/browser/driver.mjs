// Drives Debian's headless Chromium through the dashboard with playwright-core (no browser download) and
// writes a JSON report for the pytest side to check: what each page shows (numbers as data-value), console
// errors, horizontal overflow on a phone-sized screen, and screenshots of every page.
//
//   node driver.mjs <scenario> <input.json> <report.json> <screenshot dir>
//
// Scenarios: "pages" (read-only pages, the live jobs list, narrow screens) and "post" (the post-a-job
// form: wallet problems, then a real post with an anvil account, followed until the job completes).
// Environment: TESSERA_FRONTEND_DIR (where playwright-core is installed), TESSERA_CHROMIUM.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [scenario, inputPath, reportPath, shotDir] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputPath, "utf8"));
const require = createRequire(join(process.env.TESSERA_FRONTEND_DIR, "package.json"));
const { chromium } = require("playwright-core");

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const report = { scenario, console: [], pages: {}, mobile: {}, screenshots: [], steps: [] };

function step(text) {
  report.steps.push(`${((Date.now() - started) / 1000).toFixed(1)} s ${text}`);
}
const started = Date.now();

function watch(page, label) {
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") {
      report.console.push({ page: label, type: msg.type(), text: msg.text(), url: msg.location()?.url ?? "" });
    }
  });
  page.on("pageerror", (err) => report.console.push({ page: label, type: "pageerror", text: String(err) }));
  page.on("requestfailed", (req) => {
    const failure = req.failure()?.errorText ?? "";
    if (!failure.includes("ERR_ABORTED")) report.console.push({ page: label, type: "requestfailed", text: `${req.url()} ${failure}` });
  });
  return page;
}

async function shot(page, name) {
  mkdirSync(shotDir, { recursive: true });
  const path = join(shotDir, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0)); // a sticky header would otherwise land mid-page
  await page.screenshot({ path, fullPage: true });
  report.screenshots.push(path);
}

async function open(page, hash, name, { ready = true } = {}) {
  await page.goto(`${input.url}/#/${hash}`);
  if (ready) await page.waitForSelector(`#app[data-page="${name}"][data-ready="1"]`, { timeout: 30_000 });
}

/** Wait until the page has rendered data at least as new as `block`. */
async function atBlock(page, block) {
  await page.waitForFunction((b) => Number(document.querySelector("#app")?.dataset.block ?? -1) >= b, block, { timeout: 30_000 });
}

function extract() {
  const app = document.querySelector("#app");
  const out = { testids: {}, states: {}, params: {}, operators: {}, jobs: {}, gas: {}, replicas: {}, replicaRounds: {}, rounds: {}, text: app.innerText };
  for (const el of app.querySelectorAll("[data-testid]")) {
    out.testids[el.dataset.testid] = { text: el.textContent.trim(), value: el.dataset.value ?? null, href: el.getAttribute("href") };
  }
  for (const el of app.querySelectorAll("[data-state]")) out.states[el.dataset.state] = el.dataset.value;
  for (const el of app.querySelectorAll("[data-param]")) out.params[el.dataset.param] = el.dataset.value;
  for (const tr of app.querySelectorAll("tr[data-operator]")) {
    const row = {};
    for (const td of tr.querySelectorAll("[data-col]")) row[td.dataset.col] = td.dataset.value;
    const earnings = tr.querySelector('[data-col="earnings"]');
    row.fees = earnings?.dataset.fees;
    row.emission = earnings?.dataset.emission;
    out.operators[tr.dataset.operator] = row;
  }
  for (const tr of app.querySelectorAll("tr[data-job]")) out.jobs[tr.dataset.job] = tr.querySelector('[data-col="phase"]')?.dataset.value;
  for (const td of app.querySelectorAll("[data-step]")) out.gas[td.dataset.step] = td.dataset.value;
  for (const tr of app.querySelectorAll("tr[data-replica]")) out.replicas[tr.dataset.replica] = tr.innerText;
  // each claimant's round (the Round column) and each round of the Escalation table, cell by column label
  for (const td of app.querySelectorAll('tr[data-replica] [data-col="round"]')) out.replicaRounds[td.closest("tr").dataset.replica] = td.dataset.value;
  for (const tr of app.querySelectorAll("tr[data-round]")) {
    const row = {};
    for (const td of tr.querySelectorAll("td[data-label]")) row[td.dataset.label] = td.textContent.trim();
    out.rounds[tr.dataset.round] = row;
  }
  return out;
}

async function overflow(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    overflows: document.documentElement.scrollWidth > window.innerWidth + 1,
  }));
}

async function rpc(method, params) {
  const response = await fetch(input.rpc_url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

// A stand-in EIP-1193 wallet: answers accounts and chain id as told, forwards reads to the node, and
// rejects every signature request the way a user pressing "Reject" does (code 4001).
function fakeWallet({ address, chainId, rpcUrl, shared = true }) {
  let connected = shared; // has the user shared an account with this page yet?
  window.ethereum = {
    async request({ method, params }) {
      if (method === "eth_requestAccounts") connected = true;
      if (method === "eth_requestAccounts" || method === "eth_accounts") return connected ? [address] : [];
      if (method === "eth_chainId") return chainId;
      if (method === "eth_sendTransaction" || method.startsWith("eth_sign") || method === "personal_sign") {
        const err = new Error("User rejected the request.");
        err.code = 4001;
        throw err;
      }
      const response = await fetch(rpcUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: params ?? [] }),
      });
      const body = await response.json();
      if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
      return body.result;
    },
    on() {},
    removeListener() {},
  };
}

// ------------------------------------------------------------------------------------------ scenarios
async function pagesScenario(context) {
  const page = watch(await context.newPage(), "desktop");
  await page.setViewportSize(DESKTOP);
  for (const { name, hash, page: kind, wait } of input.pages) {
    await open(page, hash, kind);
    await atBlock(page, input.block);
    for (const selector of wait ?? []) {
      await page.waitForFunction((sel) => {
        const el = document.querySelector(sel);
        return el && el.dataset.value !== "pending";
      }, selector, { timeout: 30_000 });
    }
    report.pages[name] = await page.evaluate(extract);
    await shot(page, `desktop-${name}`);
    step(`desktop ${name}`);
  }

  // The jobs list grows without a reload when a job is posted elsewhere.
  await open(page, "jobs", "jobs");
  await page.evaluate(() => { window.__sameDocument = true; });
  const before = await page.locator("tr[data-job]").count();
  for (const tx of input.live.txs) {
    const hash = await rpc("eth_sendTransaction", [{ from: input.live.from, ...tx }]);
    let receipt = null;
    while (!receipt) receipt = await rpc("eth_getTransactionReceipt", [hash]);
    if (receipt.status !== "0x1") throw new Error(`live transaction ${hash} reverted`);
  }
  await page.waitForSelector(`tr[data-job="${input.live.expect_job}"]`, { timeout: 20_000 });
  report.live = {
    before,
    after: await page.locator("tr[data-job]").count(),
    sameDocument: await page.evaluate(() => window.__sameDocument === true),
    phase: await page.locator(`tr[data-job="${input.live.expect_job}"] [data-col="phase"]`).getAttribute("data-value"),
  };
  step("live jobs list");

  const phone = watch(await context.newPage(), "phone");
  await phone.setViewportSize(PHONE);
  for (const { name, hash, page: kind } of input.pages) {
    await open(phone, hash, kind);
    report.mobile[name] = await overflow(phone);
    await shot(phone, `mobile-${name}`);
  }
  step("phone pages");
}

async function postScenario(context) {
  // 1. a wallet on the wrong network
  const wrong = watch(await context.newPage(), "wrong-network");
  await wrong.addInitScript(fakeWallet, { address: input.requester, chainId: "0x1", rpcUrl: input.rpc_url });
  await open(wrong, "post", "post");
  await wrong.waitForSelector('[data-testid="post-error"]:not([hidden])', { timeout: 20_000 });
  report.wrongNetwork = await wrong.locator('[data-testid="post-error"]').evaluate((el) => ({ kind: el.dataset.kind, text: el.textContent }));
  await wrong.close();
  step("wrong network");

  // 2. a wallet on the right network, not yet connected, whose user then rejects the signature
  const rejecting = watch(await context.newPage(), "rejecting");
  await rejecting.addInitScript(fakeWallet, { address: input.requester, chainId: input.chain_id_hex, rpcUrl: input.rpc_url, shared: false });
  await open(rejecting, "post", "post");
  await rejecting.waitForSelector('[data-testid="connect"]:not([hidden])', { timeout: 20_000 });
  report.notConnected = await rejecting.locator('[data-testid="post-error"]').evaluate((el) => ({ kind: el.dataset.kind, text: el.textContent }));
  await rejecting.click('[data-testid="connect"]');
  await rejecting.waitForSelector('[data-testid="approve"]:not([hidden])', { timeout: 20_000 });
  await rejecting.click('[data-testid="approve"]');
  await rejecting.waitForSelector('[data-testid="post-error"]:not([hidden])', { timeout: 20_000 });
  report.rejected = await rejecting.locator('[data-testid="post-error"]').evaluate((el) => ({ kind: el.dataset.kind, text: el.textContent }));
  await rejecting.close();
  step("rejected signature");

  // 3. the real thing, with anvil development accounts
  const page = watch(await context.newPage(), "post");
  await page.setViewportSize(DESKTOP);
  await open(page, "post", "post");
  await page.selectOption('select[name="signer"]', `dev:${input.poor_index}`);
  await page.waitForFunction((i) => document.querySelector('[data-testid="account"]')?.textContent.includes(`#${i}`), input.poor_index);
  report.poor = await page.locator('[data-testid="blockers"]').innerText();
  step("poor account");

  await page.selectOption('select[name="signer"]', `dev:${input.requester_index}`);
  await page.waitForFunction((i) => document.querySelector('[data-testid="account"]')?.textContent.includes(`#${i}`), input.requester_index);
  // a spec dropped on the form is checked against the schema before anything is sent
  const dropped = await page.evaluateHandle((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], "bad-spec.json", { type: "application/json" }));
    return transfer;
  }, JSON.stringify(input.bad_spec));
  await page.dispatchEvent('[data-testid="drop"]', "drop", { dataTransfer: dropped });
  await page.waitForSelector('[data-testid="spec-status"][data-value="invalid"]');
  report.droppedBad = {
    status: await page.locator('[data-testid="spec-status"]').innerText(),
    postDisabled: await page.locator('[data-testid="post"]').isDisabled(),
  };
  const specFile = join(mkdtempSync(join(tmpdir(), "tessera-spec-")), "spec.json");
  writeFileSync(specFile, JSON.stringify(input.spec, null, 2));
  await page.setInputFiles('input[name="file"]', specFile);
  await page.waitForFunction((n) => document.querySelector('[data-testid="spec"]').value.includes(`"n": ${n}`), input.spec.workload.n);
  await page.fill('input[name="fee"]', input.fee);
  report.specStatus = await page.locator('[data-testid="spec-status"]').evaluate((el) => el.dataset.value);
  report.beforeApproval = await page.locator('[data-testid="blockers"]').innerText();
  report.feeShown = await page.locator('[data-testid="fee"]').getAttribute("data-value");
  report.deadlines = await page.locator('[data-testid="deadline-claim"]').innerText();
  await page.click('[data-testid="approve"]');
  await page.waitForSelector('[data-testid="approved"]', { timeout: 30_000 });
  await page.waitForSelector('[data-testid="blockers-none"]', { timeout: 30_000 });
  step("approved");
  await page.click('[data-testid="post"]');
  await page.waitForSelector('[data-testid="posted-job"]', { timeout: 60_000 });
  const jobId = await page.locator('[data-testid="posted-job"]').getAttribute("data-value");
  report.postedJob = jobId;
  report.postLog = await page.locator('[data-testid="log"]').innerText();
  await shot(page, "desktop-post-sent");
  step(`posted job ${jobId}`);

  await page.click('[data-testid="posted-job"]');
  await page.waitForSelector('#app[data-page="job"][data-ready="1"]');
  await page.waitForFunction(
    () => document.querySelector("h1 [data-testid=phase]")?.textContent === "Completed" &&
      document.querySelector('[data-testid="result-check"]')?.dataset.value === "match" &&
      document.querySelector('[data-testid="spec-check"]')?.dataset.value === "match",
    null,
    { timeout: input.complete_timeout_ms, polling: 500 },
  );
  report.pages.job = await page.evaluate(extract);
  await shot(page, "desktop-job-completed");
  step("job completed");

  const phone = watch(await context.newPage(), "phone");
  await phone.setViewportSize(PHONE);
  await open(phone, `jobs/${jobId}`, "job");
  await phone.waitForSelector('[data-testid="result-check"][data-value="match"]', { timeout: 30_000 });
  report.mobile.job = await overflow(phone);
  await shot(phone, "mobile-job-completed");
  await open(phone, "post", "post");
  report.mobile.post = await overflow(phone);
  await shot(phone, "mobile-post");
  step("phone pages");
}

// ------------------------------------------------------------------------------------------ main
const profile = mkdtempSync(join(tmpdir(), "tessera-chromium-"));
let context;
let code = 0;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.TESSERA_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ],
    viewport: DESKTOP,
    timeout: 60_000,
  });
  context.setDefaultTimeout(30_000);
  if (scenario === "pages") await pagesScenario(context);
  else if (scenario === "post") await postScenario(context);
  else throw new Error(`unknown scenario ${scenario}`);
} catch (err) {
  report.error = String(err?.stack ?? err);
  code = 1;
  try {
    const pages = context?.pages() ?? [];
    if (pages.length) await shot(pages[pages.length - 1], `failure-${scenario}`);
  } catch {
    // the browser is gone; the report says why
  }
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  report.seconds = (Date.now() - started) / 1000;
  writeFileSync(reportPath, JSON.stringify(report, null, 2));
}
process.exit(code);
