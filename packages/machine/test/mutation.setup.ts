/**
 * Loaded by vitest.mutation.config.ts only (`pnpm mutate --package machine`, docs/contributing.md),
 * never by `npm test`.
 */
import { fc } from "@fast-check/vitest";
import { beforeEach } from "vitest";
import { forgetCompiledTransitions } from "../src/fastTransition.js";

// The run without mutants must pass and every mutant's run must see the same cases: one seed.
const seed = Number(process.env.CLOUDSESSION_FC_SEED);
if (Number.isInteger(seed)) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });

// Each test compiles the transition table itself, so Stryker links the table's code to every test
// that goes through it, not just to the first one of each file.
beforeEach(() => {
  forgetCompiledTransitions();
});
