import type { Context } from 'hono';

/*
 * Deps.clientIp for each runtime; the entry files pick one. Only addresses a trusted party
 * wrote are used: a client can put anything in a header the edge or proxy does not overwrite.
 */

/** Workers: Cloudflare's edge sets CF-Connecting-IP on every request, replacing any sent. */
export function cloudflareClientIp(c: Context): string | undefined {
  return c.req.header('cf-connecting-ip') || undefined;
}

/**
 * Node (@hono/node-server puts the IncomingMessage on `c.env.incoming`): with `trustedHops` = n
 * reverse proxies in front, the n-th X-Forwarded-For entry from the right, the address the
 * outermost trusted proxy saw (entries further left are the client's own claims). Otherwise, or
 * when the header is shorter, the socket's peer address.
 */
export function forwardedClientIp(trustedHops: number): (c: Context) => string | undefined {
  return (c) => {
    if (trustedHops > 0) {
      const chain = (c.req.header('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      if (chain.length >= trustedHops) return chain[chain.length - trustedHops];
    }
    const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
    return env?.incoming?.socket?.remoteAddress;
  };
}
