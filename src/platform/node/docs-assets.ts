/**
 * Node: the Swagger UI files /docs loads, read from the installed `swagger-ui-dist` package
 * (a production dependency, so the Docker image's `npm ci --omit=dev` has it). Each file is
 * read once, on its first request, and kept in memory with a strong ETag over its bytes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DocsAsset, DocsAssetName, DocsAssets } from '../../http/docs-ui.js';

/** The package's folder as Node resolves it from here (node_modules/swagger-ui-dist). */
export function swaggerUiDistDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

/** `dir` defaults to the installed package, resolved on the first read (the CLI never reads). */
export function createPackageDocsAssets(dir?: string): DocsAssets {
  const loaded = new Map<DocsAssetName, Promise<DocsAsset | undefined>>();
  const load = async (name: DocsAssetName): Promise<DocsAsset | undefined> => {
    try {
      const bytes = await readFile(join(dir ?? swaggerUiDistDir(), name));
      return { body: new Uint8Array(bytes), etag: `"${createHash('sha256').update(bytes).digest('base64url')}"` };
    } catch (error) {
      loaded.delete(name); // not cached: a later request tries again
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  return {
    read(name) {
      let file = loaded.get(name);
      if (!file) loaded.set(name, (file = load(name)));
      return file;
    },
  };
}
