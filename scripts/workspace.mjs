// What the two front doors share (`npm start`/`npm test` through bootstrap.mjs, and `./cloudsession`):
// the pinned pnpm (global, or in .tools/ when the global npm prefix is not writable, as for a
// non-root user) and the workspace installed from the lockfile.
// Corepack is deliberately not used: its signature check fails on our machines.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];
const isWindows = process.platform === "win32";

/**
 * The environment the tools run in. Colour only for a terminal: vitest colours its output even
 * into a file unless told not to, so without a terminal (and without FORCE_COLOR) NO_COLOR is set.
 */
export function toolEnvironment(stdoutIsTerminal = process.stdout.isTTY === true) {
  const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", COREPACK_ENABLE_STRICT: "0" };
  if (!stdoutIsTerminal && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.NO_COLOR = "1";
  return env;
}

/** `stdout`: where the tools' own output goes ("inherit", or 2 to keep stdout for the caller's output). */
export function createRunner(stdout = "inherit") {
  const env = toolEnvironment(stdout === "inherit" ? process.stdout.isTTY === true : process.stderr.isTTY === true);
  const run = (command, args, options = {}) => spawnSync(command, args, { cwd: root, env, stdio: ["inherit", stdout, "inherit"], shell: isWindows, ...options });
  return { env, run };
}

function pnpmVersion(command, env) {
  const result = spawnSync(command, ["--version"], { cwd: root, env, encoding: "utf8", shell: isWindows });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function log(message) {
  console.error(`[bootstrap] ${message}`);
}

/** The pinned pnpm's command: installs it first when missing. Exits the process when it cannot. */
export function findPnpm({ env, run }) {
  const local = join(root, ".tools", "node_modules", ".bin", isWindows ? "pnpm.cmd" : "pnpm");
  if (pnpmVersion("pnpm", env) === pinned) return "pnpm";
  if (existsSync(local) && pnpmVersion(local, env) === pinned) return local;
  log(`installing pnpm@${pinned}`);
  if (run("npm", ["install", "--global", "--no-fund", "--no-audit", `pnpm@${pinned}`], { stdio: "ignore" }).status === 0 && pnpmVersion("pnpm", env) === pinned) {
    return "pnpm";
  }
  // The global prefix may be read-only (non-root user): fall back to a project-local copy.
  log(`the global npm prefix is not writable: installing pnpm@${pinned} in .tools/`);
  const installed = run("npm", ["install", "--prefix", join(root, ".tools"), "--no-fund", "--no-audit", "--no-save", `pnpm@${pinned}`]);
  if (installed.status === 0 && pnpmVersion(local, env) === pinned) return local;
  console.error(`bootstrap: could not install pnpm@${pinned} with npm`);
  process.exit(1);
}

/** Installs the workspace from the lockfile (quietly; with output when it fails). Exits the process when it cannot. */
export function installWorkspace(runner, pnpm) {
  const install = runner.run(pnpm, ["install", "--frozen-lockfile", "--prefer-offline", "--reporter=silent"]);
  if (install.status === 0) return;
  log("pnpm install failed; retrying with output");
  const retry = runner.run(pnpm, ["install", "--frozen-lockfile"]);
  if (retry.status !== 0) process.exit(retry.status ?? 1);
}

/** True when the workspace was never installed, or the lockfile changed since (e.g. after a pull). */
export function needsInstall() {
  const marker = join(root, "node_modules", ".modules.yaml");
  if (!existsSync(marker) || !existsSync(join(root, "node_modules", "tsx"))) return true;
  return statSync(join(root, "pnpm-lock.yaml")).mtimeMs > statSync(marker).mtimeMs;
}
