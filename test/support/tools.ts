/**
 * Tests that need an external program (promtool, prometheus, chromium, docker-compose) decide by
 * whether the program is here and whether it is required, never by the `CI` variable: GitHub
 * sets `CI=true` on runners that have none of them.
 *
 * - The program answers `--version` (or the given probe args): the suite runs.
 * - It does not, and `REQUIRE_TOOLS=1` (`.ci/run` sets it, so local CI and GitHub CI both): the
 *   suite is replaced by one failing test that says how to install the program.
 * - It does not, and nothing requires it: a visible skip, with the same instruction.
 */
import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';

export interface Tool {
  /** The command on PATH, or an absolute path. */
  command: string;
  /** Arguments that make it print something and exit 0. Default `['--version']`. */
  probeArgs?: string[];
  /** How to get it, e.g. "apt-get install -y --no-install-recommends prometheus". */
  install: string;
}

const seen = new Map<string, string | undefined>();

/** Why the tool cannot run here, or undefined when it can. Probed once per process. */
export function toolMissing(tool: Tool): string | undefined {
  const key = `${tool.command} ${(tool.probeArgs ?? ['--version']).join(' ')}`;
  if (!seen.has(key)) {
    try {
      execFileSync(tool.command, tool.probeArgs ?? ['--version'], { stdio: 'ignore', timeout: 30_000 });
      seen.set(key, undefined);
    } catch (err) {
      seen.set(key, `${tool.command} is not usable here (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): ${tool.install}`);
    }
  }
  return seen.get(key);
}

/**
 * For optional tools that add checks when present and are never required (kubectl: not in
 * Debian, so CI cannot install it): true when `command ...probeArgs` exits 0.
 */
export function hasOptionalTool(command: string, probeArgs: string[]): boolean {
  return toolMissing({ command, probeArgs, install: '' }) === undefined;
}

/** True when missing tools must fail the run instead of skipping (`REQUIRE_TOOLS=1`). */
export function toolsRequired(): boolean {
  return process.env.REQUIRE_TOOLS === '1';
}

/**
 * `describe(name, body)` when every tool is usable; otherwise a failing test (REQUIRE_TOOLS=1)
 * or a skipped suite, naming what is missing and how to install it.
 */
export function describeWithTools(tools: Tool[], name: string, body: () => void): void {
  const missing = tools.map(toolMissing).filter((m): m is string => m !== undefined);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  if (toolsRequired()) {
    describe(name, () => {
      it(`needs ${tools.map((t) => t.command).join(', ')} (REQUIRE_TOOLS=1)`, () => {
        throw new Error(`required tool missing: ${missing.join('; ')}`);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPING "${name}": ${missing.join('; ')} ***\n`);
  describe.skip(name, body);
}

export const PROMTOOL: Tool = { command: 'promtool', install: "Debian's prometheus package: apt-get install -y --no-install-recommends prometheus" };
export const PROMETHEUS: Tool = { command: 'prometheus', install: "Debian's prometheus package: apt-get install -y --no-install-recommends prometheus" };
export const CHROMIUM: Tool = { command: '/usr/bin/chromium', install: "Debian's chromium package: apt-get install -y --no-install-recommends chromium" };
export const DOCKER_COMPOSE: Tool = {
  command: 'docker-compose',
  install: "Debian's docker-compose package (works without a Docker daemon for `config`): apt-get install -y --no-install-recommends docker-compose",
};
export const JQ: Tool = { command: 'jq', install: "Debian's jq package: apt-get install -y --no-install-recommends jq" };
