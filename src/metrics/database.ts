import type { Database } from '../db/client.js';
import type { Metrics } from './index.js';

/**
 * Times every `rows()` and `batch()` (each is one round trip) into `db_query_duration`,
 * failures included. Queries built on `database.db` directly (the drizzle query builder) are
 * not timed: wrapping drizzle's thenables would mean proxying its whole API.
 */
export function timedDatabase(database: Database, metrics: Metrics): Database {
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      metrics.dbQuery(performance.now() - started);
    }
  };
  return {
    kind: database.kind,
    db: database.db,
    batch: (build) => timed(() => database.batch(build)),
    rows: (rowSchema, query) => timed(() => database.rows(rowSchema, query)),
    ping: (timeoutMs) => database.ping(timeoutMs),
    close: () => database.close(),
  };
}
