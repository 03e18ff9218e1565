/**
 * Migration safety: `wrangler rollback` and `kubectl rollout undo` bring back old code but
 * never an old schema, so a migration must keep the previous release working. This flags
 * the statements that break it (docs/runbook.md, "Database migrations (expand/contract)"):
 *
 * - DROP TABLE / VIEW / TYPE / FUNCTION / SCHEMA / SEQUENCE, and ALTER TABLE … DROP [COLUMN];
 * - any RENAME of a table, column, constraint, type or enum value;
 * - ALTER COLUMN … [SET DATA] TYPE (narrowing or not: old code reads and writes the old type);
 * - ALTER COLUMN … SET NOT NULL, and ALTER COLUMN … DROP DEFAULT (old inserts omit the column);
 * - ADD COLUMN … NOT NULL (or PRIMARY KEY) without a DEFAULT (old inserts omit it);
 * - enum value removal by editing pg_enum.
 *
 * A file that must do one of these (the *contract* step, at least one release after the
 * code stopped using the old shape) says so with a comment line:
 *
 *   -- contract: <why this is safe now, e.g. "orders.legacy_total unused since v42 (#123)">
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isEntryPoint } from '../shared/entry.js';

export interface Violation {
  file: string;
  rule: string;
  statement: string;
}

/** `-- contract: <reason>`, the reason at least a few characters long. */
export const CONTRACT_MARKER = /^[ \t]*--[ \t]*contract:[ \t]*(\S.{4,})$/im;

export function contractReason(sql: string): string | undefined {
  return CONTRACT_MARKER.exec(sql)?.[1]?.trim();
}

/** Removes comments, string literals and dollar-quoted bodies, so only real SQL is matched. */
export function stripSql(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const rest = sql.slice(i);
    if (rest.startsWith('--')) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
      continue;
    }
    if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      out += ' ';
      continue;
    }
    const dollar = /^\$([A-Za-z_]\w*)?\$/.exec(rest);
    if (dollar) {
      const end = sql.indexOf(dollar[0], i + dollar[0].length);
      i = end < 0 ? sql.length : end + dollar[0].length;
      out += " '' ";
      continue;
    }
    if (sql[i] === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      i = j + 1;
      out += " '' ";
      continue;
    }
    out += sql[i];
    i++;
  }
  return out;
}

/** Splits on top-level commas (not inside parentheses). */
function splitActions(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

const IDENT = String.raw`(?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?`;

function alterTableRules(action: string): string[] {
  const a = action.replace(/\s+/g, ' ').trim();
  const found: string[] = [];
  if (/^DROP (?!CONSTRAINT\b)/i.test(a)) found.push('drop column');
  if (/^RENAME\b/i.test(a)) found.push(/^RENAME TO\b/i.test(a) ? 'rename table' : /^RENAME CONSTRAINT\b/i.test(a) ? 'rename constraint' : 'rename column');
  if (/^ALTER (?:COLUMN )?\S+ (?:SET DATA )?TYPE\b/i.test(a)) found.push('column type change');
  if (/^ALTER (?:COLUMN )?\S+ SET NOT NULL\b/i.test(a)) found.push('set not null');
  if (/^ALTER (?:COLUMN )?\S+ DROP DEFAULT\b/i.test(a)) found.push('drop default');
  const add = /^ADD (?!CONSTRAINT\b|PRIMARY KEY\b|UNIQUE\b|CHECK\b|FOREIGN KEY\b|EXCLUDE\b)(?:COLUMN )?(?:IF NOT EXISTS )?(.*)$/i.exec(a);
  if (add) {
    const def = add[1]!;
    const required = /\bNOT NULL\b|\bPRIMARY KEY\b/i.test(def);
    const filled = /\bDEFAULT\b|\bGENERATED\b/i.test(def);
    if (required && !filled) found.push('add not null column without default');
  }
  return found;
}

/** The rules one statement breaks (none for a safe, expand-only statement). */
export function statementRules(statement: string): string[] {
  const s = statement.replace(/\s+/g, ' ').trim();
  if (!s) return [];
  const rules: string[] = [];
  const drop = /^DROP (TABLE|VIEW|MATERIALIZED VIEW|TYPE|DOMAIN|FUNCTION|PROCEDURE|SCHEMA|SEQUENCE)\b/i.exec(s);
  if (drop) rules.push(`drop ${drop[1]!.toLowerCase()}`);
  const alterTable = new RegExp(String.raw`^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?${IDENT} (.*)$`, 'i').exec(s);
  if (alterTable) for (const action of splitActions(alterTable[1]!)) rules.push(...alterTableRules(action));
  if (/^ALTER (TYPE|DOMAIN|VIEW|MATERIALIZED VIEW|SCHEMA|FUNCTION) .* RENAME\b/i.test(s)) {
    rules.push(/ RENAME VALUE\b/i.test(s) ? 'rename enum value' : 'rename');
  }
  if (/^(DELETE FROM|UPDATE) (pg_catalog\.)?pg_enum\b/i.test(s)) rules.push('enum value removal');
  return [...new Set(rules)];
}

export function checkMigrationSql(sql: string, file = '<sql>'): Violation[] {
  if (contractReason(sql)) return [];
  const statements = stripSql(sql).split(';');
  return statements.flatMap((st) => statementRules(st).map((rule) => ({ file, rule, statement: st.replace(/\s+/g, ' ').trim().slice(0, 160) })));
}

export function checkMigrationsFolder(dir: string): { files: string[]; violations: Violation[]; contracts: { file: string; reason: string }[] } {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const violations: Violation[] = [];
  const contracts: { file: string; reason: string }[] = [];
  for (const file of files) {
    const sql = readFileSync(join(dir, file), 'utf8');
    const reason = contractReason(sql);
    if (reason) contracts.push({ file, reason });
    violations.push(...checkMigrationSql(sql, file));
  }
  return { files, violations, contracts };
}

export function formatViolations(violations: Violation[]): string {
  return violations
    .map((v) => `${v.file}: ${v.rule}: ${v.statement}`)
    .concat(
      violations.length
        ? [
            'A rolled-back release meets this schema. Split it into expand now and contract later (docs/runbook.md,',
            '"Database migrations (expand/contract)"), or, for the contract step itself, add a line: -- contract: <why it is safe now>',
          ]
        : [],
    )
    .join('\n');
}

/** `npm run check:migrations [-- folder]`: the same check as the test, for deploy pipelines. */
if (isEntryPoint(import.meta.url)) {
  const dir = process.argv[2] ?? 'migrations';
  const { files, violations, contracts } = checkMigrationsFolder(dir);
  for (const c of contracts) console.log(`${c.file}: contract migration: ${c.reason}`);
  if (violations.length > 0) {
    console.error(formatViolations(violations));
    process.exit(1);
  }
  console.log(`${files.length} migrations in ${dir}/: expand-only${contracts.length ? ` (${contracts.length} documented contract steps)` : ''}`);
}
