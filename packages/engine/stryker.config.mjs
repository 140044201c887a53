// @ts-check
// `pnpm mutate --package engine` (scripts/mutate.mjs): mutation testing of the engine's guarantees,
// measured with its fast unit tests only (test/runner: real machine, in-process fakes for the SDK).
// The e2e tests (simulator over JSON-RPC, PostgreSQL) take minutes per run: once per mutant is out
// of reach, so the files chosen are those whose mutants the unit tests are meant to catch.
import { strykerConfig } from "../../scripts/strykerConfig.mjs";

const guarantees = [
  "reservation", // create a task, classify its failure, attach
  "classifyCreateError", // which create errors are retried, blocked or fatal
  "promptDispatcher", // dispatch once, in order; re-send only what the runtime never saw
  "deadlineTimer", // fire the next deadline on the injected clock
  "settleFromHistory", // settle a dispatch from the runtime's history after a reconnect
];

export default strykerConfig("engine", {
  mutate: guarantees.map((name) => `packages/engine/src/${name}.ts`),
  testFiles: ["packages/engine/test/runner/**/*.test.ts"],
});
