// Job specs in the browser: check one against the generated JSON Schema (abi/job-spec.schema.json) before
// anything is uploaded or signed, and write it as compact JSON with sorted keys (stable bytes, so the same
// spec gets the same CID and digest). Workers parse specs strictly (offchain/compute/spec.py); this check
// catches the mistakes a form can make, with the field named.
//
// The validator covers the JSON Schema keywords that schema uses (type, const, enum, required,
// properties, additionalProperties, patternProperties, maxProperties, items, min/maxItems, minimum,
// maximum, exclusiveMinimum, pattern, $ref, oneOf with a discriminator) and nothing more.

import schemaJson from "../../abi/job-spec.schema.json";

type Schema = {
  $ref?: string;
  type?: string;
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  maxProperties?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  oneOf?: Schema[];
  discriminator?: { propertyName: string; mapping: Record<string, string> };
  default?: unknown;
  description?: string;
  title?: string;
};

export const schema = schemaJson as unknown as Schema & { $defs: Record<string, Schema> };

export const WORKLOADS = Object.keys(schema.properties?.workload?.discriminator?.mapping ?? {});

export const EXAMPLES: Record<string, object> = {
  matmul: { version: 1, workload: { name: "matmul", n: 64, seed: 7 }, resources: { max_runtime_s: 60 } },
  "mlp-train": {
    version: 1,
    workload: { name: "mlp-train", sizes: [4, 16, 3], steps: 20, seed: 1 },
    resources: { max_runtime_s: 120 },
    determinism: { mode: "quantized", decimals: 5 },
  },
  "mlp-infer": {
    version: 1,
    workload: { name: "mlp-infer" },
    inputs: { weights: "Qm… (CID of a safetensors file)", input: "Qm… (CID of a safetensors file)" },
  },
};

export class SpecProblem extends Error {}

function resolve(s: Schema): Schema {
  if (!s.$ref) return s;
  const name = s.$ref.replace("#/$defs/", "");
  const target = schema.$defs[name];
  if (!target) throw new Error(`unknown $ref ${s.$ref}`);
  return target;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function check(value: unknown, raw: Schema, path: string): void {
  const s = resolve(raw);
  const at = path || "(the spec)";
  if (s.oneOf) {
    const tag = s.discriminator?.propertyName;
    if (tag && s.discriminator) {
      const key = (value as Record<string, unknown> | null)?.[tag];
      const ref = typeof key === "string" ? s.discriminator.mapping[key] : undefined;
      if (!ref) {
        const options = Object.keys(s.discriminator.mapping).join(", ");
        throw new SpecProblem(`${at}.${tag}: must be one of ${options} (got ${JSON.stringify(key)})`);
      }
      check(value, { $ref: ref }, path);
      return;
    }
    const errors: string[] = [];
    for (const option of s.oneOf) {
      try {
        check(value, option, path);
        return;
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    throw new SpecProblem(errors[0] ?? `${at}: matches no option`);
  }
  if (s.const !== undefined && value !== s.const) {
    throw new SpecProblem(`${at}: must be ${JSON.stringify(s.const)} (got ${JSON.stringify(value)})`);
  }
  if (s.enum && !s.enum.includes(value)) {
    throw new SpecProblem(`${at}: must be one of ${s.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  }
  if (s.type) {
    const actual = typeOf(value);
    const ok = actual === s.type || (s.type === "number" && actual === "integer");
    if (!ok) throw new SpecProblem(`${at}: must be ${s.type === "integer" ? "an integer" : `a ${s.type}`} (got ${actual})`);
  }
  if (typeof value === "number") {
    if (s.minimum !== undefined && value < s.minimum) throw new SpecProblem(`${at}: must be at least ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) throw new SpecProblem(`${at}: must be at most ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) {
      throw new SpecProblem(`${at}: must be greater than ${s.exclusiveMinimum}`);
    }
  }
  if (typeof value === "string" && s.pattern && !new RegExp(s.pattern).test(value)) {
    throw new SpecProblem(`${at}: ${JSON.stringify(value.slice(0, 60))} does not match ${s.pattern}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) throw new SpecProblem(`${at}: needs at least ${s.minItems} items`);
    if (s.maxItems !== undefined && value.length > s.maxItems) throw new SpecProblem(`${at}: takes at most ${s.maxItems} items`);
    if (s.items) value.forEach((item, i) => check(item, s.items as Schema, `${path}[${i}]`));
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of s.required ?? []) {
      if (!(key in obj)) throw new SpecProblem(`${path ? path + "." : ""}${key}: is required`);
    }
    const keys = Object.keys(obj);
    if (s.maxProperties !== undefined && keys.length > s.maxProperties) {
      throw new SpecProblem(`${at}: takes at most ${s.maxProperties} entries`);
    }
    for (const key of keys) {
      const child = `${path ? path + "." : ""}${key}`;
      if (s.properties?.[key]) {
        check(obj[key], s.properties[key], child);
        continue;
      }
      const patterned = Object.entries(s.patternProperties ?? {}).find(([p]) => new RegExp(p).test(key));
      if (patterned) {
        check(obj[key], patterned[1], child);
      } else if (s.patternProperties) {
        throw new SpecProblem(`${child}: the name does not match ${Object.keys(s.patternProperties).join(" or ")}`);
      } else if (s.additionalProperties === false) {
        throw new SpecProblem(`${child}: unknown field (allowed: ${Object.keys(s.properties ?? {}).join(", ")})`);
      }
    }
  }
}

/** Parse and check spec text; returns the object or throws SpecProblem naming the field. */
export function parseSpec(text: string): Record<string, unknown> {
  if (new TextEncoder().encode(text).length > MAX_SPEC) throw new SpecProblem(`the spec is over ${MAX_SPEC} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SpecProblem(`not valid JSON: ${(err as Error).message}`);
  }
  if (typeOf(value) !== "object") throw new SpecProblem("the spec must be a JSON object");
  check(value, schema, "");
  return value as Record<string, unknown>;
}

const MAX_SPEC = 1 << 20;

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The bytes uploaded and hashed: compact JSON, keys sorted. */
export function specBytes(spec: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(sortKeys(spec)));
}

export function workloadOf(spec: unknown): string {
  const name = (spec as { workload?: { name?: unknown } } | null)?.workload?.name;
  return typeof name === "string" ? name : "?";
}
