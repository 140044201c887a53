#!/usr/bin/env node
// `./cloudsession …` (or `node scripts/cloudsession.mjs …` where there is no POSIX shell): the
// cloudsession CLI from its TypeScript sources, in this one process, for root and non-root users
// alike: no pnpm on PATH and no global bin needed. The first run in a fresh clone installs the
// workspace (its output goes to stderr, so `--json` output stays pure NDJSON).
import { register } from "node:module";
import { createRunner, findPnpm, installWorkspace, log, needsInstall } from "./workspace.mjs";

if (needsInstall()) {
  log("installing the workspace first (once per clone, and after the lockfile changes)");
  const runner = createRunner(2);
  installWorkspace(runner, findPnpm(runner));
}
// How the CLI's hints and next steps spell the command.
process.env.CLOUDSESSION_COMMAND ??= "./cloudsession";
const { register: registerTypeScript } = await import("tsx/esm/api");
registerTypeScript();
// Registered last, so it runs first: workspace packages resolve to their sources.
register("./sourceCondition.mjs", import.meta.url);
await import("../packages/cli/src/bin.ts");
