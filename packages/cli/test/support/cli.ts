import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "vitest";

/** The repository root: the CLI runs from its sources there, as `pnpm cloudsession` does. */
export const root = resolve(import.meta.dirname, "../../../..");
export const tsx = join(root, "node_modules/.bin/tsx");
export const bin = join(root, "packages/cli/src/bin.ts");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment every CLI child gets: no credentials (so the simulator), a fast simulator, no colour overrides. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dropped = new Set(["GH_TOKEN", "GITHUB_TOKEN", "COPILOT_GITHUB_TOKEN", "FORCE_COLOR", "NO_COLOR", "CI", "CLOUDSESSION_STORE"]);
  const inherited = Object.entries(process.env).filter(([name]) => !dropped.has(name));
  return { ...Object.fromEntries(inherited), CLOUDSESSION_SIM_TIME_SCALE: "0.01", ...extra };
}

/** Runs `cloudsession …` as a child process with piped output. */
export function runCli(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(tsx, ["--conditions=@cloudsession/source", bin, ...args], { cwd: root, env: cliEnv(extraEnv), timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Parses NDJSON output, failing on any line that is not a JSON object. */
export function parseNdjson(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const value: unknown = JSON.parse(line);
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`not a JSON object: ${line}`);
      return value as Record<string, unknown>;
    });
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

// eslint-disable-next-line no-control-regex -- matching ANSI escapes is the point
export const ansi = /\u001b\[/;

// Asymmetric matchers are typed `any`; held as `unknown` they can sit in expected objects.
export const anyString: unknown = expect.any(String);
export const anyNumber: unknown = expect.any(Number);
export const matching = (pattern: RegExp): unknown => expect.stringMatching(pattern);
export const containing = (text: string): unknown => expect.stringContaining(text);
