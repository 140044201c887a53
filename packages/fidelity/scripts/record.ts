/**
 * Records the real runtime's event streams for the local-session script and writes them, normalised,
 * to `packages/fidelity/fixtures/*.json`. Run from the repo root:
 *
 *   pnpm --filter @cloudsession/fidelity record
 *
 * Nothing leaves 127.0.0.1: the runtime's APIs and proxies all point at the loopback stub, which
 * refuses CONNECT; the script fails if any outbound attempt was made.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { findBundledRuntime, installedSdkVersion } from "../src/bundledRuntime.js";
import { FIXTURES_DIR } from "../src/fixture.js";
import { fixturesFromRun } from "../src/fixturesFromRun.js";
import { runLocalScript } from "../src/localScript.js";
import { startRealRuntime } from "../src/realRuntime.js";
import { realScriptTarget } from "../src/realScriptTarget.js";
import { stubRequestSummary } from "../src/stubRequestSummary.js";

if (findBundledRuntime() === undefined) {
  console.error("The Copilot runtime platform package is not installed: nothing to record.");
  process.exit(1);
}
const sdkVersion = installedSdkVersion();
const runtime = await startRealRuntime();
try {
  const run = await runLocalScript(realScriptTarget(runtime));
  if (runtime.stub.outbound.attempts.length > 0) throw new Error(`outbound attempts: ${JSON.stringify(runtime.stub.outbound.attempts)}`);
  const fixtures = fixturesFromRun(run, {
    sdk: sdkVersion,
    platform: `${process.platform}-${process.arch}`,
    paths: [runtime.home.root],
    notes: { "local-create": { httpCalls: stubRequestSummary(runtime.stub.requests), outboundAttempts: runtime.stub.outbound.attempts.length } },
  });
  mkdirSync(FIXTURES_DIR, { recursive: true });
  for (const fixture of fixtures) {
    writeFileSync(new URL(`${fixture.name}.json`, FIXTURES_DIR), `${JSON.stringify(fixture, null, 2)}\n`);
    console.log(`wrote fixtures/${fixture.name}.json (${fixture.events.length} events)`);
  }
} finally {
  await runtime.stop();
}
