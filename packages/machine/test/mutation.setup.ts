/**
 * Loaded by vitest.mutation.config.ts only (`pnpm mutate --package machine`, docs/contributing.md),
 * never by `npm test`.
 */
import { fc } from "@fast-check/vitest";
import { beforeEach } from "vitest";
import { forgetCompiledTransitions } from "../src/fastTransition.js";

// The run without mutants must pass and every mutant's run must see the same cases: one seed. A
// failing property is a killed mutant: no time spent shrinking its counterexample.
const seed = Number(process.env.CLOUDSESSION_FC_SEED);
fc.configureGlobal({ ...fc.readConfigureGlobal(), endOnFailure: true, ...(Number.isInteger(seed) ? { seed } : {}) });

// Each test compiles the transition table itself, so Stryker links the table's code to every test
// that goes through it, not just to the first one of each file.
beforeEach(() => {
  forgetCompiledTransitions();
});
