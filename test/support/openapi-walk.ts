/**
 * Reads an OpenAPI 3.1 document the way a hostile client would: every operation, every
 * parameter, every field of every request body, with a plausible value for each. Used by
 * test/node/hostile-input.test.ts to generate its cases from /openapi.json itself.
 */
export type Schema = Record<string, any>;
export type Path = Array<string | number>;

export interface Operation {
  method: string;
  path: string;
  key: string;
  op: Schema;
  parameters: Array<{ name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema }>;
  body: Schema | undefined;
}

export function operations(doc: Schema): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries<Schema>(doc.paths)) {
    for (const [method, op] of Object.entries<Schema>(ops)) {
      out.push({
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        op,
        parameters: (op.parameters ?? []).map((p: Schema) => ({ name: p.name, in: p.in, required: !!p.required, schema: p.schema })),
        // A body the app verifies as raw bytes (the webhook: x-raw-body) is documented, not validated.
        body: op.requestBody?.['x-raw-body'] ? undefined : op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return out;
}

export function resolve(doc: Schema, schema: Schema): Schema {
  let s = schema;
  while (s && typeof s.$ref === 'string') {
    const name = s.$ref.replace('#/components/schemas/', '');
    s = doc.components.schemas[name];
    if (!s) throw new Error(`unresolvable ${schema.$ref}`);
  }
  // Nullable fields are `anyOf: [X, null]` or `type: [X, 'null']`: the non-null branch is what to probe.
  const branches: Schema[] | undefined = s.anyOf ?? s.oneOf;
  if (branches) {
    const nonNull = branches.filter((b) => b.type !== 'null');
    if (nonNull.length >= 1) return resolve(doc, nonNull[0]!);
  }
  if (Array.isArray(s.type)) return { ...s, type: s.type.find((t: string) => t !== 'null') };
  return s;
}

/** A value the schema accepts as far as JSON Schema can say (refinements need fixtures). */
export function sample(doc: Schema, schema: Schema): unknown {
  const s = resolve(doc, schema);
  if (s.type !== 'object' && s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'string':
      if (s.format === 'uuid') return crypto.randomUUID();
      if (s.format === 'date-time') return '2030-01-07T09:00:00Z';
      if (s.format === 'date') return '2030-01-07';
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return (s.minItems ?? 0) > 0 ? [sample(doc, s.items)] : [];
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of s.required ?? []) out[name] = sample(doc, s.properties[name]);
      return out;
    }
    default:
      throw new Error(`cannot sample schema ${JSON.stringify(s)}`);
  }
}

export interface Leaf {
  path: Path;
  schema: Schema;
}

/** Every scalar field of a body schema, descending into objects and into the first item of arrays. */
export function leaves(doc: Schema, schema: Schema, path: Path = []): Leaf[] {
  const s = resolve(doc, schema);
  if (s.type === 'object' && s.properties) {
    return Object.entries<Schema>(s.properties).flatMap(([name, prop]) => leaves(doc, prop, [...path, name]));
  }
  if (s.type === 'array') return [{ path, schema: s }, ...leaves(doc, s.items, [...path, 0])];
  if (s.type === 'object') return []; // free-form records: none in requests today (see the lint test)
  return [{ path, schema: s }];
}

/** `value` with `path` set to `leaf`, creating objects and first array items from the schema as needed. */
export function setAt(doc: Schema, schema: Schema, value: unknown, path: Path, leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  const s = resolve(doc, schema);
  const [head, ...rest] = path;
  if (typeof head === 'number') {
    const arr = Array.isArray(value) && value.length > 0 ? [...value] : [sample(doc, s.items)];
    arr[head] = setAt(doc, s.items, arr[head], rest, leaf);
    return arr;
  }
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
  const base = obj[head!] ?? (rest.length > 0 ? sample(doc, s.properties[head!]) : undefined);
  obj[head!] = setAt(doc, s.properties[head!], base, rest, leaf);
  return obj;
}

export function getAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), value);
}

/** The field name the API reports for a body path: `body.items.0.serviceId`. */
export const bodyField = (path: Path) => ['body', ...path].join('.');

export const isDateLike = (s: Schema) => s.format === 'date' || s.format === 'date-time';
