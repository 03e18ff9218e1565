/**
 * Bundled in place of zod's `core/json-schema-processors.js`, `core/to-json-schema.js` and
 * `core/json-schema-generator.js` by
 * wrangler.toml's `[alias]` (Worker builds only), as src/build/zod-no-locales.ts is for the
 * locales. zod → JSON Schema (`z.toJSONSchema`, `schema.toJSONSchema()`, Standard Schema's
 * `~standard.jsonSchema`) serves documents, and the Worker builds none: it serves /openapi.json
 * as built on Node (tools/worker-bundle/build.ts), and @asteasolutions/zod-to-openapi has its own
 * generator. `z` escapes as a namespace object, so the bundler kept these ~22 KiB (minified);
 * in the Worker they throw. `aggregateChecks` (behind `schema.minLength`, `.maxLength`, `.format`…)
 * is zod's own, kept as is; parsing never used any of this.
 */
import { util } from 'zod/v4/core';

const leftOut = (): never => {
  throw new Error("zod's JSON Schema output is left out of the Worker build (src/build/zod-no-json-schema.ts)");
};

// --- core/to-json-schema.js ---
export const initializeContext = leftOut;
export const handleUnrepresentable = leftOut;
export const processSchema = leftOut;
export { processSchema as process };
export const extractDefs = leftOut;
export const finalize = leftOut;
export const createToJSONSchemaMethod = (): (() => never) => leftOut;
export const createStandardJSONSchemaMethod = (): (() => never) => leftOut;

// --- core/json-schema-generator.js ---
export class JSONSchemaGenerator {
  constructor() {
    leftOut();
  }
}

// --- core/json-schema-processors.js ---
export const toJSONSchema = leftOut;
export const allProcessors = {};
export const stringProcessor = leftOut;
export const numberProcessor = leftOut;
export const booleanProcessor = leftOut;
export const bigintProcessor = leftOut;
export const symbolProcessor = leftOut;
export const nullProcessor = leftOut;
export const undefinedProcessor = leftOut;
export const voidProcessor = leftOut;
export const neverProcessor = leftOut;
export const anyProcessor = leftOut;
export const unknownProcessor = leftOut;
export const dateProcessor = leftOut;
export const enumProcessor = leftOut;
export const literalProcessor = leftOut;
export const nanProcessor = leftOut;
export const templateLiteralProcessor = leftOut;
export const fileProcessor = leftOut;
export const successProcessor = leftOut;
export const customProcessor = leftOut;
export const functionProcessor = leftOut;
export const transformProcessor = leftOut;
export const mapProcessor = leftOut;
export const setProcessor = leftOut;
export const arrayProcessor = leftOut;
export const objectProcessor = leftOut;
export const unionProcessor = leftOut;
export const intersectionProcessor = leftOut;
export const tupleProcessor = leftOut;
export const recordProcessor = leftOut;
export const nullableProcessor = leftOut;
export const nonoptionalProcessor = leftOut;
export const defaultProcessor = leftOut;
export const prefaultProcessor = leftOut;
export const catchProcessor = leftOut;
export const pipeProcessor = leftOut;
export const readonlyProcessor = leftOut;
export const promiseProcessor = leftOut;
export const optionalProcessor = leftOut;
export const lazyProcessor = leftOut;

// zod 4's aggregateChecks, unchanged but for types: what a schema's checks add up to.
interface Agg {
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number[];
  patterns?: Set<RegExp>;
  mime?: string[];
  format?: string;
  isInt?: boolean;
  contentEncoding?: string;
  laxFormat?: boolean;
}
/** The fields of a check's definition that the fold reads (each check has some of them). */
interface Def {
  check: string;
  value: number;
  inclusive?: boolean;
  format: string;
  minimum: number;
  maximum: number;
  length: number;
  size: number;
  pattern?: RegExp;
  local?: boolean;
  precision?: number | null;
  mime: string[];
}
interface Bag {
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  format?: string;
  mime?: string[];
  patterns?: Set<RegExp>;
}
interface Check {
  _zod: { def: Def };
}
interface Schema {
  _zod: { def: { checks?: Check[] }; traits: Set<string>; bag: Bag };
}
const narrowMin = (agg: Agg, key: 'minimum' | 'exclusiveMinimum', value: number) => {
  if (agg[key] === undefined || value > agg[key]) agg[key] = value;
};
const narrowMax = (agg: Agg, key: 'maximum' | 'exclusiveMaximum', value: number) => {
  if (agg[key] === undefined || value < agg[key]) agg[key] = value;
};
const narrowBoth = (agg: Agg, value: number) => {
  narrowMin(agg, 'minimum', value);
  narrowMax(agg, 'maximum', value);
};
const addDivisor = (agg: Agg, value: number) => {
  agg.multipleOf ??= [];
  if (!agg.multipleOf.includes(value)) agg.multipleOf.push(value);
};
const addPattern = (agg: Agg, pattern: RegExp) => {
  agg.patterns ??= new Set();
  agg.patterns.add(pattern);
};
const intersectMime = (agg: Agg, mime: string[]) => {
  agg.mime = agg.mime ? agg.mime.filter((m) => mime.includes(m)) : [...mime];
};
const setFormat = (agg: Agg, format: string) => {
  agg.format = format;
  if (format.includes('int')) agg.isInt = true;
};
const minContributor = (agg: Agg, def: Def) => narrowMin(agg, 'minimum', def.minimum);
const maxContributor = (agg: Agg, def: Def) => narrowMax(agg, 'maximum', def.maximum);
// The ranges are read on use, not at load: zod's core imports this module while it loads.
const formatContributor = (ranges: () => Record<string, readonly [unknown, unknown]>) => (agg: Agg, def: Def) => {
  setFormat(agg, def.format);
  const [minimum, maximum] = ranges()[def.format]!;
  narrowMin(agg, 'minimum', minimum as number);
  narrowMax(agg, 'maximum', maximum as number);
};
const contributors: Record<string, (agg: Agg, def: Def) => void> = {
  greater_than: (agg, def) => narrowMin(agg, def.inclusive ? 'minimum' : 'exclusiveMinimum', def.value),
  less_than: (agg, def) => narrowMax(agg, def.inclusive ? 'maximum' : 'exclusiveMaximum', def.value),
  multiple_of: (agg, def) => addDivisor(agg, def.value),
  number_format: formatContributor(() => util.NUMBER_FORMAT_RANGES),
  bigint_format: formatContributor(() => util.BIGINT_FORMAT_RANGES),
  min_length: minContributor,
  max_length: maxContributor,
  length_equals: (agg, def) => narrowBoth(agg, def.length),
  min_size: minContributor,
  max_size: maxContributor,
  size_equals: (agg, def) => narrowBoth(agg, def.size),
  string_format: (agg, def) => {
    setFormat(agg, def.format);
    if (def.pattern) addPattern(agg, def.pattern);
    if (def.format === 'base64' || def.format === 'base64url') agg.contentEncoding = def.format;
    if (def.local || def.precision === -1) agg.laxFormat = true;
  },
  mime_type: (agg, def) => intersectMime(agg, def.mime),
};
export function aggregateChecks(schema: Schema): Agg {
  const agg: Agg = {};
  const def = schema._zod.def;
  const list: Check[] = schema._zod.traits.has('$ZodCheck') ? [schema as unknown as Check, ...(def.checks ?? [])] : (def.checks ?? []);
  for (const ch of list) contributors[ch._zod.def.check]?.(agg, ch._zod.def);
  const bag = schema._zod.bag;
  if (bag.minimum !== undefined) narrowMin(agg, 'minimum', bag.minimum);
  if (bag.exclusiveMinimum !== undefined) narrowMin(agg, 'exclusiveMinimum', bag.exclusiveMinimum);
  if (bag.maximum !== undefined) narrowMax(agg, 'maximum', bag.maximum);
  if (bag.exclusiveMaximum !== undefined) narrowMax(agg, 'exclusiveMaximum', bag.exclusiveMaximum);
  if (bag.multipleOf !== undefined) addDivisor(agg, bag.multipleOf);
  if (bag.format !== undefined) {
    agg.format ??= bag.format;
    if (bag.format.includes('int')) agg.isInt = true;
  }
  if (bag.mime) intersectMime(agg, bag.mime);
  for (const pattern of bag.patterns ?? []) addPattern(agg, pattern);
  return agg;
}
