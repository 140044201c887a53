import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "vitest";

/** The repository root: the CLI runs from its sources there, as `./cloudsession` does. */
export const root = resolve(import.meta.dirname, "../../../..");
/** The launcher behind `./cloudsession` (one node process, sources through tsx). */
export const launcher = join(root, "scripts/cloudsession.mjs");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment every CLI child gets: no credentials (so the simulator), a fast simulator, no colour overrides. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dropped = new Set(["GH_TOKEN", "GITHUB_TOKEN", "COPILOT_GITHUB_TOKEN", "FORCE_COLOR", "NO_COLOR", "CI", "CLOUDSESSION_STORE", "CLOUDSESSION_COMMAND"]);
  const inherited = Object.entries(process.env).filter(([name]) => !dropped.has(name));
  return { ...Object.fromEntries(inherited), CLOUDSESSION_SIM_TIME_SCALE: "0.01", ...extra };
}

/** Runs `./cloudsession …` as a child process with piped output. */
export function runCli(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [launcher, ...args], { cwd: root, env: cliEnv(extraEnv), timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A CLI child left running: its output so far, a wait for a line, and its end. */
export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp): Promise<void>;
  readonly exited: Promise<CliResult>;
}

/** Starts `./cloudsession …` and leaves it running (for Ctrl-C and SIGKILL tests). */
export function startCli(args: readonly string[], extraEnv: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [launcher, ...args], { cwd: root, env: cliEnv(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
    for (const listener of listeners) listener();
  });
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  const exited = new Promise<CliResult>((resolvePromise) => child.once("close", (code) => resolvePromise({ code, stdout: out, stderr: err })));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern) =>
      new Promise<void>((resolvePromise, reject) => {
        const check = (): void => {
          if (!pattern.test(out)) return;
          listeners.delete(check);
          resolvePromise();
        };
        listeners.add(check);
        check();
        void exited.then((result) => reject(new Error(`the CLI exited (${String(result.code)}) before printing ${String(pattern)}:\n${result.stdout}\n${result.stderr}`)));
      }),
  };
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

/** Runs `main()` in this process with captured output (and `stdin` as its input): for usage errors, where a child process adds nothing. */
export async function runMain(args: readonly string[], env: Record<string, string> = {}, stdin = ""): Promise<CliResult> {
  const { main } = await import("../../src/program.js");
  const { PassThrough, Readable } = await import("node:stream");
  const capture = (): { stream: NodeJS.WriteStream; text: () => string } => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
  };
  const stdout = capture();
  const stderr = capture();
  const code = await main(args, { stdout: stdout.stream, stderr: stderr.stream, env: { ...cliEnv(), CLOUDSESSION_COMMAND: "./cloudsession", ...env }, stdin: Readable.from([Buffer.from(stdin, "utf8")]) });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
