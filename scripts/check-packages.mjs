#!/usr/bin/env node
// The packages as published: build, `pnpm pack` each publishable package, install the tarballs in a
// fresh project outside the workspace (dependencies from the npm registry), import each in ESM,
// typecheck a consumer under moduleResolution node16 and bundler, run publint and
// are-the-types-wrong, and check that `@cloudsession/machine` alone brings in nothing but xstate.
// See docs/adr/0005-publishing.md. Usage: node scripts/check-packages.mjs [--no-build] [--keep]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const packages = ["machine", "rx", "store", "engine", "simulator", "dashboard", "cli"];
// Tools the consumer project installs from the registry, pinned so the check is repeatable.
// @types/emscripten: PGlite's declarations use the Emscripten globals without depending on their types.
const tools = ["typescript@6.0.3", "@types/node@^20.19.43", "@types/emscripten@1.41.6", "publint@0.3.25", "@arethetypeswrong/cli@0.18.5"];
const args = new Set(process.argv.slice(2));
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", npm_config_fund: "false", npm_config_audit: "false", npm_config_update_notifier: "false" };
const failures = [];

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { cwd: root, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

function must(what, command, commandArgs, options) {
  const result = run(command, commandArgs, options);
  if (result.status !== 0) {
    console.error(`check-packages: ${what} failed\n${result.output}`);
    process.exit(1);
  }
  return result.output;
}

function check(what, command, commandArgs, options) {
  const result = run(command, commandArgs, options);
  console.log(`${result.status === 0 ? "ok  " : "FAIL"} ${what}`);
  if (result.status !== 0) {
    failures.push(what);
    console.log(result.output.trimEnd().replace(/^/gm, "     "));
  }
  return result;
}

function pnpmCommand() {
  const local = join(root, ".tools", "node_modules", ".bin", "pnpm");
  return existsSync(local) ? local : "pnpm";
}

// 1. Build. A clean clone has no node_modules yet: the bootstrap installs from the lockfile first.
if (!args.has("--no-build")) {
  if (existsSync(join(root, "node_modules", ".pnpm"))) must("build", pnpmCommand(), ["run", "--silent", "build"]);
  else must("install and build", process.execPath, [join(root, "scripts", "bootstrap.mjs"), "build"]);
}
const pnpm = pnpmCommand();

// 2. Pack. pnpm rewrites `workspace:*` and applies `publishConfig` (the exports without the
// workspace-only `@cloudsession/source` condition).
const scratch = mkdtempSync(join(tmpdir(), "cloudsession-packages-"));
const tarballDir = join(scratch, "tarballs");
mkdirSync(tarballDir);
const tarballs = {};
for (const name of packages) {
  const before = new Set(readdirSync(tarballDir));
  must(`pnpm pack ${name}`, pnpm, ["pack", "--pack-destination", tarballDir], { cwd: join(root, "packages", name) });
  const made = readdirSync(tarballDir).find((file) => !before.has(file));
  if (!made) throw new Error(`pnpm pack made no tarball for ${name}`);
  tarballs[name] = join(tarballDir, made);
  const listing = must(`list ${made}`, "tar", ["-tzf", tarballs[name]]).split("\n");
  const packed = JSON.parse(must(`read ${made}`, "tar", ["-xzOf", tarballs[name], "package/package.json"]));
  const tests = listing.filter((file) => /(^|\/)(test|tests|__tests__)\/|\.test\.[cm]?[jt]s$/.test(file));
  const workspaceRefs = Object.entries({ ...packed.dependencies, ...packed.peerDependencies }).filter(([, range]) => String(range).startsWith("workspace:"));
  const sourceCondition = JSON.stringify(packed.exports ?? {}).includes("@cloudsession/source");
  const problems = [
    ...(tests.length > 0 ? [`tests in the tarball: ${tests.join(", ")}`] : []),
    ...(workspaceRefs.length > 0 ? [`workspace: ranges left: ${workspaceRefs.map(([dep]) => dep).join(", ")}`] : []),
    ...(sourceCondition ? ["exports still carry the @cloudsession/source condition"] : []),
    ...(packed.sideEffects === false ? [] : ["sideEffects is not false"]),
    ...(packed.type === "module" ? [] : ['type is not "module"']),
    ...(packed.license ? [] : ["no license"]),
    ...(packed.engines?.node ? [] : ["no engines.node"]),
  ];
  console.log(`${problems.length === 0 ? "ok  " : "FAIL"} ${made}: ${listing.filter(Boolean).length} files`);
  for (const problem of problems) console.log(`     ${problem}`);
  if (problems.length > 0) failures.push(`manifest of ${made}`);
}

// 3. A fresh consumer outside the workspace: every tarball, dependencies from the registry.
const consumer = join(scratch, "consumer");
mkdirSync(consumer);
writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
must("npm install (consumer)", "npm", ["install", "--no-package-lock", ...Object.values(tarballs), ...tools], { cwd: consumer });
const bin = (name) => join(consumer, "node_modules", ".bin", name);

// 4. ESM imports at run time.
const importScript = packages.map((name) => `{ const m = await import("@cloudsession/${name}"); if (Object.keys(m).length === 0) throw new Error("@cloudsession/${name} exports nothing"); }`).join("\n");
check("import every package in ESM (node)", process.execPath, ["--input-type=module", "-e", importScript], { cwd: consumer });
check("the cloudsession command runs (--help)", bin("cloudsession"), ["--help"], { cwd: consumer });
// The dashboard serves the page bundled into its tarball (the consumer has no esbuild to build one).
check(
  "the dashboard serves its bundled page",
  process.execPath,
  [
    "--input-type=module",
    "-e",
    `import { serveDashboard } from "@cloudsession/dashboard"; import { createInMemoryStore } from "@cloudsession/store";
const served = await serveDashboard({ store: createInMemoryStore() });
for (const path of ["", "assets/app.js", "assets/app.css", "api/machine"]) { const response = await fetch(served.url + path); if (response.status !== 200) throw new Error(path + ": " + response.status); }
await served.close();`,
  ],
  { cwd: consumer },
);

// 5. Types, under both resolutions a consumer is likely to use.
writeFileSync(
  join(consumer, "consumer.ts"),
  `import { createEngine, isEngineError, type Engine, type SessionHandle } from "@cloudsession/engine";
import { replay, sessionMachine, type SessionLogEvent } from "@cloudsession/machine";
import { selectLifecycleState } from "@cloudsession/rx";
import { createInMemoryStore, openStore, type EventStore } from "@cloudsession/store";
import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { redact } from "@cloudsession/cli";

export async function main(): Promise<string> {
  const simulator: Simulator = await startSimulator({ timeScale: 0.01 });
  const store: EventStore = createInMemoryStore();
  const engine: Engine = createEngine({ runtimeUrl: simulator.url, store });
  const session: SessionHandle = await engine.start({ repository: { owner: "octo", name: "demo" }, prompts: ["hi"] });
  const log: SessionLogEvent[] = await engine.history(session.id);
  const state: string = replay(log).value.toString();
  await engine.close();
  await simulator.close();
  void openStore;
  void selectLifecycleState;
  void sessionMachine;
  void redact;
  void isEngineError;
  return state;
}
`,
);
const strict = { strict: true, noEmit: true, skipLibCheck: false, types: ["node", "emscripten"], lib: ["ES2023", "DOM"], target: "ES2022" };
for (const [label, options] of [
  ["node16", { module: "node16", moduleResolution: "node16" }],
  ["bundler", { module: "esnext", moduleResolution: "bundler" }],
]) {
  writeFileSync(join(consumer, `tsconfig.${label}.json`), JSON.stringify({ compilerOptions: { ...strict, ...options }, files: ["consumer.ts"] }, null, 2));
  check(`typecheck a consumer (moduleResolution ${label})`, bin("tsc"), ["-p", `tsconfig.${label}.json`], { cwd: consumer });
}

// 6. publint and are-the-types-wrong on each tarball (ESM only: the CJS resolutions are not ours).
for (const name of packages) {
  const extracted = join(scratch, "extracted", name);
  mkdirSync(extracted, { recursive: true });
  must(`extract ${name}`, "tar", ["-xzf", tarballs[name], "-C", extracted]);
  check(`publint @cloudsession/${name}`, bin("publint"), ["run", join(extracted, "package"), "--strict", "--pack", "false"], { cwd: consumer });
  check(`attw @cloudsession/${name}`, bin("attw"), [tarballs[name], "--profile", "esm-only", "--format", "table-flipped"], { cwd: consumer });
}

// 7. The machine alone: nothing but xstate.
const alone = join(scratch, "machine-alone");
mkdirSync(alone);
writeFileSync(join(alone, "package.json"), JSON.stringify({ name: "machine-alone", private: true, type: "module" }, null, 2));
must("npm install (machine alone)", "npm", ["install", "--no-package-lock", tarballs.machine], { cwd: alone });
const installed = readdirSync(join(alone, "node_modules"))
  .filter((entry) => !entry.startsWith("."))
  .flatMap((entry) => (entry.startsWith("@") ? readdirSync(join(alone, "node_modules", entry)).map((inner) => `${entry}/${inner}`) : [entry]))
  .sort();
const onlyXstate = JSON.stringify(installed) === JSON.stringify(["@cloudsession/machine", "xstate"]);
console.log(`${onlyXstate ? "ok  " : "FAIL"} @cloudsession/machine alone installs: ${installed.join(", ")}`);
if (!onlyXstate) failures.push("machine alone");
check("import @cloudsession/machine alone", process.execPath, ["--input-type=module", "-e", 'const m = await import("@cloudsession/machine"); if (!m.sessionMachine) throw new Error("no sessionMachine");'], { cwd: alone });

if (args.has("--keep")) console.log(`kept ${scratch}`);
else rmSync(scratch, { recursive: true, force: true });
if (failures.length > 0) {
  console.error(`check-packages: ${failures.length} failed: ${failures.join("; ")}`);
  process.exit(1);
}
console.log(`check-packages: ${packages.length} packages pack, install, import, typecheck and lint clean`);
