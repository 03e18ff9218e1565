// Wrangler (and the vitest Workers pool) compile statically imported .wasm files at upload,
// which is the only way Workers allow WebAssembly: run-time compilation from bytes is refused.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
