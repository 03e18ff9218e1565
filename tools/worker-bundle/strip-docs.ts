/**
 * The Worker build's documentation stripper. The Worker serves /openapi.json as text built on
 * Node at build time (tools/worker-bundle/build.ts), so the route definitions' documentation-only
 * strings would be dead weight in its bundle: this removes them from a module's source text.
 *
 * Removed, and only inside the arguments of `createRoute(…)`, `….openapi(…)` and
 * `….registerComponent(…)`, walking object and array literals (never into other calls, so a
 * `z.object({ description: z.string() })` field inside a route is left alone):
 * - `description:` and `summary:` whose value is not an object literal or a function (in these
 *   places the keys are OpenAPI text: a literal, a template, `[…].join(…)`, a constant or a
 *   helper building one; an object is left, in case it is a JSON Schema `properties` entry);
 * - `example:` and `examples:` whose value is a literal (strings, numbers, booleans, null, and
 *   arrays and objects of them).
 * Nothing else changes: every other byte of the module is kept, so validation (zod schemas,
 * parameters, status codes) is the same code. Constants left unused afterwards are tree-shaken
 * by esbuild.
 */
import ts from 'typescript';

const DOC_CALLS = new Set(['createRoute', 'openapi', 'registerComponent']);
const TEXT_KEYS = new Set(['description', 'summary']);
const EXAMPLE_KEYS = new Set(['example', 'examples']);

function calleeName(call: ts.CallExpression): string | undefined {
  const e = call.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}

function isText(e: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return isText(e.expression);
  return !ts.isObjectLiteralExpression(e) && !ts.isArrowFunction(e) && !ts.isFunctionExpression(e);
}

function isLiteral(e: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return isLiteral(e.expression);
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isNumericLiteral(e)) return true;
  if (e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword || e.kind === ts.SyntaxKind.NullKeyword) return true;
  if (ts.isPrefixUnaryExpression(e)) return e.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(e.operand);
  if (ts.isArrayLiteralExpression(e)) return e.elements.every((x) => isLiteral(x));
  if (ts.isObjectLiteralExpression(e)) {
    return e.properties.every((p) => ts.isPropertyAssignment(p) && !ts.isComputedPropertyName(p.name) && isLiteral(p.initializer));
  }
  return false;
}

function keyOf(p: ts.PropertyAssignment): string | undefined {
  const n = p.name;
  if (ts.isIdentifier(n) || ts.isStringLiteral(n)) return n.text;
  return undefined;
}

/** Source ranges [start, end) to cut: each removable property with its trailing comma. */
function removals(sf: ts.SourceFile): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const text = sf.text;
  const walkDoc = (e: ts.Expression): void => {
    if (ts.isParenthesizedExpression(e)) return walkDoc(e.expression);
    if (ts.isArrayLiteralExpression(e)) {
      for (const x of e.elements) walkDoc(ts.isSpreadElement(x) ? x.expression : x);
      return;
    }
    if (!ts.isObjectLiteralExpression(e)) return;
    for (const p of e.properties) {
      if (ts.isSpreadAssignment(p)) {
        walkDoc(p.expression);
        continue;
      }
      if (!ts.isPropertyAssignment(p)) continue;
      const key = keyOf(p);
      const drop =
        key !== undefined && ((TEXT_KEYS.has(key) && isText(p.initializer)) || (EXAMPLE_KEYS.has(key) && isLiteral(p.initializer)));
      if (!drop) {
        walkDoc(p.initializer);
        continue;
      }
      let end = p.getEnd();
      // Up to and including the comma that follows, when there is one.
      const after = /^\s*,/.exec(text.slice(end));
      if (after) end += after[0].length;
      out.push([p.getStart(sf), end]);
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const name = calleeName(node);
      if (name && DOC_CALLS.has(name)) for (const arg of node.arguments) walkDoc(arg);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** `source` (a TypeScript module) without its documentation-only strings (see the module comment). */
export function stripDocs(source: string, fileName = 'module.ts'): string {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const cuts = removals(sf).sort((a, b) => b[0] - a[0]);
  let out = source;
  let floor = Infinity;
  for (const [start, end] of cuts) {
    // Nested cuts cannot happen (a removed property is not walked into), but stay safe.
    if (end > floor) continue;
    out = out.slice(0, start) + out.slice(end);
    floor = start;
  }
  return out;
}
