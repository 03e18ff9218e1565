// Lint catches what the compiler does not. Everything keeps to the recommended sets so the
// signal stays high; `src/**` also gets the type-checked set (floating promises, unsafe `any`
// flowing in from untyped data, casts that prove nothing) and the import rules that hold the
// architecture in place (src/lint-boundaries.js). Tests, scripts and tools stay on the fast,
// syntax-only config.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * The two architecture rules (README, "How it is built"), as `no-restricted-imports` patterns.
 * They name paths, not only files that exist today, so they hold for files still to come.
 */
/** Files that run only on Node: the entry, its platform modules and the Node drivers. */
const NODE_ONLY_FILES = [
  'src/node.ts',
  'src/platform/node/**',
  'src/db/node-postgres.ts',
  'src/db/pglite.ts',
  'src/db/pglite-lock.ts',
  'src/db/migrate.ts',
  'src/db/session.ts',
  'src/auth/hash-pool.ts',
  'src/auth/argon2-node.mjs',
  'src/metrics/prometheus.ts',
];
/** Files that run only in the Worker. */
const WORKERS_ONLY_FILES = ['src/worker.ts', 'src/metrics/analytics-engine.ts'];
const NODE_MESSAGE = 'Node-only: only the Node entry and its platform modules (eslint.config.js NODE_ONLY_FILES) may import it.';
const WORKERS_MESSAGE = 'Workers-only: only the Worker entry and its platform modules may import it.';
/** Node-only packages and builtins, and the Node-only files when imported by relative path. */
const NODE_ONLY_IMPORTS = [
  { regex: '^node:', message: NODE_MESSAGE },
  { regex: '^(pg|@electric-sql/pglite|@hono/node-server|piscina|prom-client)(/.*)?$', message: NODE_MESSAGE },
  { regex: '^drizzle-orm/(node-postgres|pglite)(/.*)?$', message: NODE_MESSAGE },
  { regex: '^\\.{1,2}/(.*/)?(node|platform/node/.*|node-postgres|pglite|pglite-lock|migrate|session|hash-pool|argon2-node|prometheus)\\.m?js$', message: NODE_MESSAGE },
];
const WORKERS_ONLY_IMPORTS = [
  { regex: '^cloudflare:', message: WORKERS_MESSAGE },
  { regex: '^\\.{1,2}/(.*/)?(worker|analytics-engine)\\.js$', message: WORKERS_MESSAGE },
];
/**
 * The modules each module may import (the layers in README, "Modules"). A module missing here
 * may import no other module. (A later `no-restricted-imports` replaces an earlier one for the
 * same file, so these configs repeat the runtime patterns.)
 * @type {Record<string, string[]>}
 */
export const MODULE_LAYERS = {
  health: [],
  auth: [],
  catalog: [],
  scheduling: [],
  zones: ['scheduling'],
  addresses: ['scheduling'],
  orders: [],
  jobs: [],
  // The scheduled job (payments/exclusive.ts) runs the recurring pickups' part too.
  payments: ['orders', 'jobs', 'recurring'],
  fulfilment: ['orders', 'payments'],
  tips: ['orders', 'payments'],
  notifications: ['auth'],
  promos: [],
  credit: ['orders'],
  account: ['auth'],
  recurring: ['orders', 'scheduling'],
};
/** @param {...(object | object[])} patterns @returns {import('eslint').Linter.RulesRecord} */
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns: patterns.flat() }] });

/**
 * Exported for test/unit/lint-rules.test.ts, which proves each rule fires and passes.
 * @type {import('eslint').Linter.Config[]}
 */
export const boundaries = [
  // Shared code (app, modules, http, domain, db/client, db/neon, config …) runs on both runtimes.
  { files: ['src/**/*.{ts,mts,js,mjs}'], ignores: [...NODE_ONLY_FILES, ...WORKERS_ONLY_FILES], rules: restrict(NODE_ONLY_IMPORTS, WORKERS_ONLY_IMPORTS) },
  { files: NODE_ONLY_FILES, rules: restrict(WORKERS_ONLY_IMPORTS) },
  { files: WORKERS_ONLY_FILES, rules: restrict(NODE_ONLY_IMPORTS) },
  // Modules import only the modules below them (README, "Modules"): never two folders each other.
  ...Object.entries(MODULE_LAYERS).map(([module, below]) => ({
    files: [`src/modules/${module}/**/*.ts`],
    rules: restrict(NODE_ONLY_IMPORTS, WORKERS_ONLY_IMPORTS, {
      regex: below.length > 0 ? `^\\.\\./(?!(?:${below.join('|')})/)[a-z-]+/` : '^\\.\\./[a-z-]+/',
      message: `src/modules/${module} may import only ${below.length > 0 ? below.join(', ') : 'no other module'} (eslint.config.js MODULE_LAYERS).`,
    }),
  })),
  // The domain is pure: it imports only its own files (same folder), no package and no builtin.
  {
    files: ['src/domain/**/*.ts'],
    rules: restrict({ regex: '^(?!\\./)', message: 'src/domain imports only src/domain (./…): no package, no file outside it.' }),
  },
];

const typeChecked = tseslint.configs.recommendedTypeChecked.map((config) => ({
  ...config,
  files: ['src/**/*.ts'],
}));

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'dist-worker', '.wrangler', '.data', 'coverage', 'bench/tmp'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  ...typeChecked,
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Named explicitly so a change of the recommended set cannot drop them silently.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // `import { type X } from 'y'` is kept as `import {} from 'y'` under verbatimModuleSyntax and
      // evaluates 'y' (the Worker loads some packages only on first use: docs/runbook.md, "Worker startup").
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },
  ...boundaries,
);
