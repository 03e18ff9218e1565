/**
 * False in the source; true in the Worker build, whose copy of this file
 * tools/worker-bundle/build.ts rewrites after stripping the route definitions' documentation
 * strings. A stripped build must serve the /openapi.json built on Node at build time (Static
 * Assets, src/worker.ts); it never builds the document from its own, incomplete, definitions.
 */
export const DOCS_STRIPPED: boolean = false;
