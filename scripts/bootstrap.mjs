#!/usr/bin/env node
// The front door's only prerequisite is node + npm. This script makes sure the pinned pnpm is
// available (globally, or in .tools/ when the global prefix is not writable), installs the
// workspace from the lockfile, then runs one root script through pnpm.
// Corepack is deliberately not used: its signature check fails on our machines.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];
const script = process.argv[2];
const scriptArgs = process.argv.slice(3);
if (!script) {
  console.error("usage: node scripts/bootstrap.mjs <root script> [args...]");
  process.exit(2);
}

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", COREPACK_ENABLE_STRICT: "0" };
const isWindows = process.platform === "win32";

function run(command, args, options = {}) {
  return spawnSync(command, args, { cwd: root, env, stdio: "inherit", shell: isWindows, ...options });
}

function pnpmVersion(command) {
  const result = spawnSync(command, ["--version"], { cwd: root, env, encoding: "utf8", shell: isWindows });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function findPnpm() {
  const local = join(root, ".tools", "node_modules", ".bin", isWindows ? "pnpm.cmd" : "pnpm");
  if (pnpmVersion("pnpm") === pinned) return "pnpm";
  if (existsSync(local) && pnpmVersion(local) === pinned) return local;
  log(`installing pnpm@${pinned}`);
  if (run("npm", ["install", "--global", "--no-fund", "--no-audit", `pnpm@${pinned}`], { stdio: "ignore" }).status === 0 && pnpmVersion("pnpm") === pinned) {
    return "pnpm";
  }
  // The global prefix may be read-only (non-root user): fall back to a project-local copy.
  const local_ = run("npm", ["install", "--prefix", join(root, ".tools"), "--no-fund", "--no-audit", "--no-save", `pnpm@${pinned}`]);
  if (local_.status === 0 && pnpmVersion(local) === pinned) return local;
  console.error(`bootstrap: could not install pnpm@${pinned} with npm`);
  process.exit(1);
}

function log(message) {
  console.error(`[bootstrap] ${message}`);
}

const pnpm = findPnpm();
const install = run(pnpm, ["install", "--frozen-lockfile", "--prefer-offline", "--reporter=silent"]);
if (install.status !== 0) {
  log("pnpm install failed; retrying with output");
  const retry = run(pnpm, ["install", "--frozen-lockfile"]);
  if (retry.status !== 0) process.exit(retry.status ?? 1);
}
const result = run(pnpm, ["run", "--silent", script, ...scriptArgs]);
process.exit(result.status ?? 1);
