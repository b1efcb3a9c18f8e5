// Formatting and the few DOM helpers the pages share. Every value put into HTML goes through `esc`.

import { formatUnits } from "viem";

export function esc(value: unknown): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** `1234.5 TSR` with thousands separators and at most `digits` decimals (trailing zeros dropped). */
export function tsr(wei: bigint, digits = 4, unit = "TSR"): string {
  return `${amount(wei, digits)}${unit ? ` ${unit}` : ""}`;
}

export function amount(wei: bigint, digits = 4): string {
  const sign = wei < 0n ? "-" : "";
  const [whole, fraction = ""] = formatUnits(wei < 0n ? -wei : wei, 18).split(".");
  const cut = fraction.slice(0, digits).replace(/0+$/, "");
  if (whole === "0" && cut === "" && /[1-9]/.test(fraction)) return `${sign}<0.${"0".repeat(digits - 1)}1`;
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${grouped}${cut ? "." + cut : ""}`;
}

export function int(value: bigint | number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function bps(value: bigint): string {
  return `${(Number(value) / 100).toLocaleString("en", { maximumFractionDigits: 2 })} %`;
}

export function short(hex: string, keep = 6): string {
  return hex.length > 2 * keep + 3 ? `${hex.slice(0, keep + 2)}…${hex.slice(-keep + 2)}` : hex;
}

export function duration(seconds: bigint | number): string {
  let s = Math.abs(Number(seconds));
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["min", 60], ["s", 1]] as const) {
    if (s >= size || (unit === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** `in 2 min` / `3 s ago`, relative to chain time. */
export function relative(at: bigint, now: bigint): string {
  return at >= now ? `in ${duration(at - now)}` : `${duration(now - at)} ago`;
}

export function clock(timestamp: bigint): string {
  return new Date(Number(timestamp) * 1000).toLocaleString("en-GB", {
    hour12: false,
    year: "numeric",
    month: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function badge(phase: string): string {
  return `<span class="badge phase-${esc(phase.toLowerCase())}" data-testid="phase">${esc(phase)}</span>`;
}

/** A value cell that also carries the raw number for tests and copy-paste (`data-value`). */
export function stat(testid: string, label: string, shown: string, raw?: bigint | number | string): string {
  const value = raw === undefined ? "" : ` data-value="${esc(String(raw))}"`;
  return `<div class="stat"><span class="label">${esc(label)}</span><span class="value" data-testid="${esc(testid)}"${value}>${esc(shown)}</span></div>`;
}

export function txLink(hash: string): string {
  return `<code title="${esc(hash)}">${esc(short(hash, 6))}</code>`;
}

export function addressLink(address: string, label?: string): string {
  return `<a href="#/operators/${esc(address)}" title="${esc(address)}"><code>${esc(label ?? short(address, 4))}</code></a>`;
}

export function errorMessage(err: unknown): string {
  if (err && typeof err === "object" && "shortMessage" in err && typeof err.shortMessage === "string") {
    const details = "details" in err && typeof err.details === "string" ? err.details : "";
    return details && !err.shortMessage.includes(details) ? `${err.shortMessage} (${details})` : err.shortMessage;
  }
  return err instanceof Error ? err.message.split("\n")[0] : String(err);
}
