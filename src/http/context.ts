import { OpenAPIHono, type RouteConfig, type RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { UserRole } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { validationHook } from './validation.js';

export interface Principal {
  userId: string;
  role: UserRole;
  /** The session (refresh-token family) the access token was issued for, when it says (`sid`). */
  sessionId?: string;
}

export interface AppEnv {
  Variables: {
    deps: Deps;
    requestId: string;
    logger: Deps['logger'];
    /** Set by `requireAuth`; absent on public routes. */
    principal?: Principal;
  };
}

/**
 * The type of a named route handler: `const listZonesHandler: Handler<typeof listZonesRoute> = async (c) => …`,
 * registered with `.openapi(listZonesRoute, listZonesHandler)`. Its `c.req.valid(…)` and the
 * responses it may return are those the route declares.
 */
export type Handler<R extends RouteConfig> = RouteHandler<R, AppEnv>;

/** Every router is built here so that validation errors are shaped the same everywhere. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

/**
 * Work that must not delay the response. On Workers it is handed to `waitUntil` so the
 * isolate lives until it finishes; on Node the promise simply runs on. Failures are logged.
 */
export function runInBackground(c: Context<AppEnv>, task: () => Promise<unknown>, what: string): void {
  const guarded = task().catch((error: unknown) => c.get('logger').error(`background task failed: ${what}`, { error }));
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // No ExecutionContext on Node: nothing to extend.
  }
}
