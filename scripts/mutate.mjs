#!/usr/bin/env node
// `pnpm mutate [--package rx|machine|engine]... [stryker options]`: mutation testing with StrykerJS,
// one package after another (all three by default), each with its packages/<name>/stryker.config.mjs.
// Not part of `npm test`: a full run takes tens of minutes (docs/contributing.md). Other options go
// to `stryker run` as they are, e.g. `--mutate packages/machine/src/settings.ts` or `--force`.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { root, toolEnvironment } from "./workspace.mjs";

const known = ["rx", "machine", "engine"];
const packages = [];
const passThrough = [];
const args = process.argv.slice(2);
for (let index = 0; index < args.length; index++) {
  const arg = args[index];
  if (arg === "--package" || arg === "-p") packages.push(...(args[++index] ?? "").split(","));
  else if (arg.startsWith("--package=")) packages.push(...arg.slice("--package=".length).split(","));
  else passThrough.push(arg);
}
const unknown = packages.filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`mutate: unknown package ${unknown.join(", ")} (one of ${known.join(", ")})`);
  process.exit(2);
}

const env = toolEnvironment();
// Every property runs once per mutant: fewer cases, and a pinned seed so that the run without
// mutants (which must pass) and every mutant's run see the same cases. `npm test` is unaffected.
env.CLOUDSESSION_FC_RUNS ??= "100";
env.CLOUDSESSION_FC_SEED ??= "20240601";

const stryker = join(root, "node_modules", ".bin", process.platform === "win32" ? "stryker.cmd" : "stryker");
let status = 0;
for (const name of packages.length > 0 ? packages : known) {
  const started = Date.now();
  console.error(`mutate: ${name} (fast-check ${env.CLOUDSESSION_FC_RUNS} runs, seed ${env.CLOUDSESSION_FC_SEED})`);
  const result = spawnSync(stryker, ["run", join("packages", name, "stryker.config.mjs"), ...passThrough], { cwd: root, env, stdio: "inherit", shell: process.platform === "win32" });
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.error(`mutate: ${name} done in ${minutes} min; report: reports/mutation/${name}/index.html`);
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
