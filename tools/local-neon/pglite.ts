/**
 * The PGlite backend for tools/local-neon/index.ts: one embedded database, one connection, every
 * value returned as raw Postgres text with its real type OID (see backends.ts).
 */
import {
  types as pgliteTypes,
  type PGlite,
  type ParserOptions,
  type QueryOptions,
  type Results,
  type SerializerOptions,
} from '@electric-sql/pglite';
import {
  identity,
  throwIfGone,
  transactionModes,
  type LocalNeonBackend,
  type LocalNeonResult,
} from './backends.js';

/**
 * PGlite decodes a value with `options.parsers[oid] ?? db.parsers[oid] ?? types.parsers[oid]`,
 * and returns the raw text only when none exists. It spreads `options.parsers` into a plain
 * object first, so a Proxy cannot intercept "every OID": instead override, with identity,
 * every OID that has a parser (the built-in table plus the db's own, which includes the array
 * types PGlite loads from pg_type at start and on refreshArrayTypes()). Rebuilt per query,
 * so parsers added later are covered too. Unknown OIDs already come back raw.
 */
function rawParsers(db: PGlite): ParserOptions {
  const out: ParserOptions = {};
  for (const key of [...Object.keys(pgliteTypes.parsers), ...Object.keys(db.parsers)]) {
    const oid = Number(key);
    if (Number.isInteger(oid)) out[oid] = identity;
  }
  return out;
}

/**
 * Parameters arrive as Postgres text already; PGlite's own serializers would re-encode them
 * (JSON.stringify a json string, reject a bytea '\x..' string). It reads
 * `options.serializers[oid]` directly, so a Proxy returning identity covers every OID.
 */
const RAW_SERIALIZERS = new Proxy({} as SerializerOptions, {
  get: () => (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v)),
});

function fromPglite(r: Results<(string | null)[]>): LocalNeonResult {
  return {
    command: r.command ?? '',
    rowCount: r.rowCount ?? null,
    // PGlite exposes only name and type OID from RowDescription.
    fields: r.fields.map((f) => ({
      name: f.name,
      tableID: 0,
      columnID: 0,
      dataTypeID: f.dataTypeID,
      dataTypeSize: -1,
      dataTypeModifier: -1,
      format: 'text' as const,
    })),
    rows: r.rows,
  };
}

export interface PgliteBackendOptions {
  /** Close the PGlite in backend.close(). Default false: the caller owns it. */
  closeDb?: boolean;
}

/**
 * PGlite runs a statement synchronously on this thread (pg_sleep blocks the event loop), so
 * it cannot be cancelled mid-statement. Between statements, let the event loop see a client
 * that went away (its socket's close), and stop there.
 */
async function nextTurn(signal: AbortSignal | undefined): Promise<void> {
  if (signal) await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfGone(signal);
}

export function pgliteBackend(db: PGlite, opts: PgliteBackendOptions = {}): LocalNeonBackend {
  // Wait for PGlite's start-up, which registers the array-type parsers (else arrays come back parsed).
  const options = async (): Promise<QueryOptions> => {
    await db.waitReady;
    return { rowMode: 'array', parsers: rawParsers(db), serializers: RAW_SERIALIZERS };
  };
  return {
    kind: 'pglite',
    // db.query waits for any running db.transaction(), so nothing interleaves with a batch.
    query: async (q, r = {}) => {
      throwIfGone(r.signal);
      const out = fromPglite(await db.query<(string | null)[]>(q.query, q.params, await options()));
      r.onResult?.(out, 0);
      return out;
    },
    batch: (queries, o, r = {}) =>
      db.transaction(async (tx) => {
        // PGlite's transaction() issues a plain BEGIN; SET TRANSACTION as the first statement
        // is equivalent to BEGIN <modes>.
        const modes = transactionModes(o);
        if (modes) await tx.exec(`SET TRANSACTION ${modes}`);
        const out: LocalNeonResult[] = [];
        for (const q of queries) {
          await nextTurn(r.signal);
          const result = fromPglite(await tx.query<(string | null)[]>(q.query, q.params, await options()));
          r.onResult?.(result, out.length);
          out.push(result);
        }
        // A throw here makes PGlite roll back instead of committing.
        await nextTurn(r.signal);
        return out;
      }),
    close: async () => {
      if (opts.closeDb) await db.close();
    },
  };
}
