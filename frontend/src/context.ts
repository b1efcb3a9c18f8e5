// What every page gets (configuration, the client, the contracts, the event indexer) and `live`, which
// re-renders a page whenever the indexer reports a new block or new events, one render at a time.

import type { Chain, PublicClient } from "viem";
import type { Contracts } from "./chain.ts";
import type { Config } from "./config.ts";
import { errorMessage, esc } from "./format.ts";
import type { Indexer } from "./indexer.ts";

export interface Ctx {
  config: Config;
  client: PublicClient;
  c: Contracts;
  chain: Chain;
  indexer: Indexer;
}

export type Cleanup = () => void;
export type Page = (ctx: Ctx, root: HTMLElement, arg: string) => Cleanup | void;

/** Render `root` now and after every indexer change; `render` returns the page's HTML. */
export function live(
  ctx: Ctx,
  root: HTMLElement,
  name: string,
  render: () => Promise<string>,
  after?: () => void,
): Cleanup {
  let running = false;
  let again = false;
  let stopped = false;
  root.dataset.page = name;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        let html: string;
        try {
          html = await render();
        } catch (err) {
          html = `<p class="problem" data-testid="page-error">Could not load this page: ${esc(errorMessage(err))}</p>`;
        }
        if (stopped) return;
        const scroll = window.scrollY;
        root.innerHTML = html;
        window.scrollTo({ top: scroll });
        root.dataset.ready = "1";
        root.dataset.block = String(ctx.indexer.head?.number ?? "");
        after?.();
      } while (again && !stopped);
    } finally {
      running = false;
    }
  };
  void run();
  const unsubscribe = ctx.indexer.subscribe(() => void run());
  return () => {
    stopped = true;
    unsubscribe();
  };
}
