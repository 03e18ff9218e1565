/**
 * The generated client's files: the document `GET /openapi.json` answers (./document.ts: the real
 * app in-process, no server, no network, no database), and the TypeScript types
 * openapi-typescript's Node API generates from that very text.
 *
 * Written by `npm run openapi:client` (./generate-client.ts); the committed copies are compared
 * against a fresh build by test/node/generated-client-files.test.ts.
 */
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { openApiDocument } from './document.js';

/** Repository-relative paths of the committed files. */
export const CLIENT_FILES = {
  /** The document as served at /openapi.json, for generators that read a file (the Flutter team's Dart generator). */
  document: 'clients/openapi.json',
  /** openapi-typescript's `paths` / `components` / `operations` types, used with openapi-fetch. */
  types: 'clients/typescript/schema.d.ts',
} as const;

export type ClientFiles = Record<keyof typeof CLIENT_FILES, string>;

/** Both files' contents, byte for byte what is committed when nothing is stale. */
export async function buildClientFiles(): Promise<ClientFiles> {
  const document = `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
  // openapi-typescript validates the document (through Redocly) before generating. defaultNonNullable
  // off: a request field with a `default` (CreateZoneRequest.active) may be left out, as the
  // document's `required` says; openapi-typescript's default would make it required.
  const ast = await openapiTS(document, { silent: true, defaultNonNullable: false });
  return { document, types: `${COMMENT_HEADER}${astToString(ast)}` };
}
