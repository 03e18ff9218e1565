/**
 * The Worker build's documentation stripper (tools/worker-bundle/strip-docs.ts): it removes only
 * documentation text from route definitions and `.openapi(…)` metadata, never a schema.
 */
import { describe, expect, it } from 'vitest';
import { stripDocs } from '../../tools/worker-bundle/strip-docs.js';

describe('stripDocs', () => {
  it('drops description, summary and literal examples inside createRoute and .openapi', () => {
    const src = [
      "const r = createRoute({ method: 'get', path: '/x', summary: 'S', description: ['a', B].join('\\n'), responses: { 200: { description: common('x'), content: {} } } });",
      "const s = z.string().openapi({ description: `d ${n}`, example: 'e', examples: [{ a: 1 }, -2] });",
      "app.openAPIRegistry.registerComponent('securitySchemes', 'b', { type: 'http', description: 'x' + y });",
    ].join('\n');
    const out = stripDocs(src);
    expect(out).not.toMatch(/summary|description|example/);
    expect(out).toContain("method: 'get', path: '/x',");
    expect(out).toContain("responses: { 200: {  content: {} } }");
    expect(out).toContain(".openapi({    })");
    expect(out).toContain("{ type: 'http',  }");
  });

  it('keeps schema fields named description, objects, non-literal examples and everything outside those calls', () => {
    const src = [
      "const r = createRoute({ request: { body: { content: { 'application/json': { schema: z.object({ description: z.string(), summary: Text }) } } } } });",
      "const p = { schema: { type: 'object', properties: { description: { type: 'string' } } } };",
      "const q = x.openapi({ properties: { description: { type: 'string' } }, example: makeExample() });",
      "await stripe.paymentIntents.create({ amount, description: `Order ${id}` });",
    ].join('\n');
    expect(stripDocs(src)).toBe(src);
  });
});
