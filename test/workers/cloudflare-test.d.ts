// The slice of the vitest Workers pool's `cloudflare:test` module these tests use. The
// package's own declarations need @cloudflare/workers-types as globals, which clash with
// the Node and DOM types the rest of the project compiles against.
declare module 'cloudflare:test' {
  export const env: Record<string, unknown>;
  export const SELF: { fetch(request: Request): Promise<Response> };
  export function createExecutionContext(): { waitUntil(promise: Promise<unknown>): void; passThroughOnException(): void };
}
