import { createRoute } from '@hono/zod-openapi';
import { DomainError } from '../../domain/errors.js';
import { normalizePostcode } from '../../domain/postcodes.js';
import { ApiError } from '../../errors.js';
import { problems } from '../../http/problem-docs.js';
import { verifyAccessToken } from '../../auth/tokens.js';
import { createRouter, type AppEnv, type Handler } from '../../http/context.js';
import type { Context } from 'hono';
import { jsonResponse } from '../../http/validation.js';
import { listBookableSlots } from './bookable-slots.js';
import { checkCoverage } from './coverage.js';
import { CoverageQuery, CoverageSchema, SlotListSchema, SlotsQuery } from './schemas.js';
import type { ZoneViewer } from './zone-match.js';
import { timeRange } from './slot-times.js';

/*
 * Coverage and slots are public: the app shows "do you deliver here, and when" before the
 * customer signs up. They reveal no customer data, only the shop's own schedule.
 * A signed-in caller may send its access token: zones are then matched for that user, which only
 * matters to synthetic users (release probes), who see the synthetic zone and nothing else.
 */

const VIEWER_NOTE =
  'An `Authorization: Bearer` access token is optional: with a valid one the zone is matched for that user (a synthetic release-probe user sees only the synthetic zone; every other caller, and any request without a valid token, never does).';

const coverageRoute = createRoute({
  method: 'get',
  path: '/v1/coverage',
  operationId: 'getCoverage',
  tags: ['Scheduling'],
  summary: 'Is a postcode served, and by which zone',
  description: [
    'Public. Always 200 for a well-formed postcode: `served: false` (with `zone: null` and a message) when no active zone covers it. Spaces and case are ignored; a ZIP+4 hyphen is dropped.',
    'A zone prefix covers a UK postcode only at its area, district or sub-district boundary (`SW1` covers SW1A 1AA, not SW19 5AE; `SW` does not cover S1 1AA);',
    'a digit prefix covers postcodes that start with it (`941` covers 94103). The most specific covering prefix wins.',
    VIEWER_NOTE,
  ].join(' '),
  request: { query: CoverageQuery },
  responses: {
    200: jsonResponse(CoverageSchema, 'The answer for this postcode.'),
    ...problems('invalid_postcode'),
  },
});

const slotsRoute = createRoute({
  method: 'get',
  path: '/v1/slots',
  operationId: 'listBookableSlots',
  tags: ['Scheduling'],
  summary: 'Bookable pickup or delivery windows for a postcode',
  description: [
    'Public. Only windows that can be booked right now: not closed, before their cut-off, not full,',
    "and not on one of the zone's closed dates (local calendar). Windows whose start lies in [from, to) are listed,",
    'sorted by start. `from` defaults to now, `to` to from + 14 days; a range wider than 31 days is `invalid_range` (422).',
    'A postcode no active zone covers is `postcode_not_served` (422).',
    VIEWER_NOTE,
  ].join(' '),
  request: { query: SlotsQuery },
  responses: {
    200: jsonResponse(SlotListSchema, 'The zone and its bookable windows.'),
    ...problems('invalid_postcode', 'postcode_not_served', 'invalid_range'),
  },
});

/**
 * Normalises a postcode from a query string. A bad one keeps the domain's code
 * (`invalid_postcode`) and also names the field, like a validation error would.
 */
function postcodeParam(raw: string, field = 'query.postcode'): string {
  try {
    return normalizePostcode(raw);
  } catch (err) {
    if (err instanceof DomainError) throw new ApiError('invalid_postcode', err.message, [{ field, message: err.message }]);
    throw err;
  }
}

/**
 * Who is asking, on a public route: the user of a valid access token, else anonymous. The token
 * is verified without I/O (src/auth/tokens.ts); the user's `synthetic` flag is read inside the
 * route's one statement (`viewerIsSynthetic`). A missing, malformed, expired or forged token is
 * not an error here (the route is public): the caller is anonymous and sees real zones only.
 */
async function viewerOf(c: Context<AppEnv>): Promise<ZoneViewer> {
  // The answer depends on the token: no cache may give one caller's answer to another
  // (RFC 9110 §12.5.5).
  c.header('Vary', 'Authorization', { append: true });
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(c.req.header('authorization') ?? '');
  if (!match) return 'anonymous';
  const deps = c.get('deps');
  try {
    const claims = await verifyAccessToken(match[1]!, deps.config.jwtSecret, deps.clock.now());
    return { userId: claims.sub };
  } catch (err) {
    if (err instanceof ApiError) return 'anonymous';
    throw err;
  }
}

/** GET /v1/coverage → ./coverage.ts */
const getCoverageHandler: Handler<typeof coverageRoute> = async (c) => {
  const postcode = postcodeParam(c.req.valid('query').postcode);
  return c.json(await checkCoverage(c.get('deps'), postcode, await viewerOf(c)), 200);
};

/** GET /v1/slots → ./bookable-slots.ts */
const listBookableSlotsHandler: Handler<typeof slotsRoute> = async (c) => {
  const deps = c.get('deps');
  const query = c.req.valid('query');
  const postcode = postcodeParam(query.postcode);
  const { from, to } = timeRange(query, deps.clock.now());
  return c.json(await listBookableSlots(deps, { postcode, kind: query.kind, from, to }, await viewerOf(c)), 200);
};

/** Public coverage and slots. The admin side of zones and slots is src/modules/zones. */
export const schedulingRoutes = createRouter()
  .openapi(coverageRoute, getCoverageHandler)
  .openapi(slotsRoute, listBookableSlotsHandler);
