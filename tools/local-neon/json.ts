/**
 * Result rows on the wire, as Neon's proxy writes them (proxy/src/serverless/json.rs): with
 * `Neon-Raw-Text-Output: true` (what the driver always sends) every value is the Postgres text;
 * without it, bool, int2/int4, float4/float8 (finite), json/jsonb and arrays of them become
 * JSON values and everything else stays text (int8 and numeric included).
 */
import type { LocalNeonResult } from './backends.js';

const BOOL = 16;
const INT2 = 21;
const INT4 = 23;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSON_OID = 114;
const JSONB = 3802;
const TEXT = 25;

/**
 * Array type OID → element OID for the built-in array types. Neon asks Postgres for the type;
 * an array OID missing here (a user-defined type's array) is sent as its text.
 */
const ARRAY_ELEMENT: Record<number, number> = {
  1000: BOOL, 1005: INT2, 1007: INT4, 1021: FLOAT4, 1022: FLOAT8, 199: JSON_OID, 3807: JSONB,
  1009: TEXT, 1015: TEXT, 1014: TEXT, 1016: TEXT, 1231: TEXT, 2951: TEXT, 1182: TEXT, 1115: TEXT,
  1185: TEXT, 1183: TEXT, 1270: TEXT, 1187: TEXT, 1001: TEXT, 1028: TEXT, 1002: TEXT, 1003: TEXT,
};

function scalar(text: string, oid: number): unknown {
  switch (oid) {
    case BOOL:
      return text === 't';
    case INT2:
    case INT4:
      return Number.parseInt(text, 10);
    case FLOAT4:
    case FLOAT8: {
      const n = Number(text);
      return Number.isFinite(n) ? n : text; // NaN and ±Infinity stay strings, as in Neon
    }
    case JSON_OID:
    case JSONB:
      return JSON.parse(text) as unknown;
    default:
      return text;
  }
}

class ArrayParser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly elem: number,
  ) {}

  parse(): unknown[] {
    // Bounds decoration (`[1:2]={…}`) is dropped, as Neon does.
    if (this.s.startsWith('[')) this.i = this.s.indexOf('=') + 1;
    this.skipSpace();
    const out = this.list();
    if (this.i !== this.s.length) throw new Error('unbalanced array');
    return out;
  }

  private skipSpace() {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private list(): unknown[] {
    if (this.s[this.i] !== '{') throw new Error('unbalanced array');
    this.i++;
    const out: unknown[] = [];
    if (this.s[this.i] === '}') {
      this.i++;
      this.skipSpace();
      return out;
    }
    for (;;) {
      out.push(this.item());
      if (this.s[this.i] === ',') this.i++;
      else break;
    }
    if (this.s[this.i] !== '}') throw new Error('unbalanced array');
    this.i++;
    this.skipSpace();
    return out;
  }

  private item(): unknown {
    this.skipSpace();
    if (this.s[this.i] === '{') return this.list();
    if (this.s[this.i] === '"') {
      this.i++;
      let text = '';
      for (;;) {
        const c = this.s[this.i++];
        if (c === undefined) throw new Error('unbalanced quoted string');
        if (c === '"') break;
        text += c === '\\' ? (this.s[this.i++] ?? '') : c;
      }
      this.skipSpace();
      return scalar(text, this.elem);
    }
    let end = this.i;
    while (end < this.s.length && this.s[end] !== ',' && this.s[end] !== '}') end++;
    const text = this.s.slice(this.i, end).trimEnd();
    this.i = end;
    return text === 'NULL' ? null : scalar(text, this.elem);
  }
}

export function textToJson(text: string, oid: number): unknown {
  const elem = ARRAY_ELEMENT[oid];
  return elem === undefined ? scalar(text, oid) : new ArrayParser(text, elem).parse();
}

/** One statement's result in Neon's shape: `{command, rowCount, fields, rows, rowAsArray}`. */
export function toWire(r: LocalNeonResult, o: { arrayMode: boolean; rawOutput: boolean }) {
  const value = (v: string | null, i: number) =>
    v === null || o.rawOutput ? v : textToJson(v, r.fields[i]?.dataTypeID ?? TEXT);
  const rows = r.rows.map((row) =>
    o.arrayMode ? row.map(value) : Object.fromEntries(row.map((v, i) => [r.fields[i]?.name ?? `?column?${i}`, value(v, i)])),
  );
  return { command: r.command, rowCount: r.rowCount, fields: r.fields, rows, rowAsArray: o.arrayMode };
}
