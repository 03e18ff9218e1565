/**
 * The Node server's response class (http.createServer's `ServerResponse` option). It takes the
 * headers every answer carries (security, CORS, X-Request-Id, X-App-Version: src/http/middleware.ts)
 * straight onto the socket's response, as plain Node headers, before the app builds its own:
 * set through Hono's `c.header` they went through a Fetch `Headers` object per request, about
 * 15 µs of a cheap request's CPU. Node-only.
 */
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { BaseHeaderSink } from '../../http/middleware.js';

export class AppServerResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> implements BaseHeaderSink {
  /** A header the app's own response may override (the app's value wins, as with `c.header`), except Vary, which it extends. */
  setBaseHeader(name: string, value: string): void {
    this.setHeader(name, value);
  }

  /**
   * A `Vary` from the app's response is added to the one set here (`Origin`), as
   * `c.header('Vary', …, { append: true })` did on the Headers object they used to share.
   */
  override writeHead(statusCode: number, reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    const own = typeof reason === 'string' ? headers : reason;
    const vary = this.getHeader('vary');
    if (vary !== undefined && own && !Array.isArray(own)) {
      for (const key in own) {
        if (key.length !== 4 || key.toLowerCase() !== 'vary' || own[key] === undefined) continue;
        const merged = { ...own, [key]: `${String(vary)}, ${String(own[key])}` };
        return typeof reason === 'string' ? super.writeHead(statusCode, reason, merged) : super.writeHead(statusCode, merged);
      }
    }
    return typeof reason === 'string' ? super.writeHead(statusCode, reason, headers) : super.writeHead(statusCode, reason);
  }
}
