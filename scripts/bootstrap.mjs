#!/usr/bin/env node
// `npm start`, `npm test`, `npm run bench`: the front door's only prerequisite is node + npm. This
// makes sure the pinned pnpm is available, installs the workspace from the lockfile, then runs one
// root script through pnpm (see workspace.mjs).
import { createRunner, findPnpm, installWorkspace } from "./workspace.mjs";

const script = process.argv[2];
const scriptArgs = process.argv.slice(3);
if (!script) {
  console.error("usage: node scripts/bootstrap.mjs <root script> [args...]");
  process.exit(2);
}

const runner = createRunner();
const pnpm = findPnpm(runner);
installWorkspace(runner, pnpm);
const result = runner.run(pnpm, ["run", "--silent", script, ...scriptArgs]);
process.exit(result.status ?? 1);
