import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineProject, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * The package's tests as Stryker runs them (stryker.config.mjs, docs/contributing.md); `npm test`
 * does not load this file.
 */

/** Seconds-long tests last (vitest runs the longest first): a mutant is killed by the first failure, so cheap tests should get the first try. */
class CheapFirst extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cost = (file: TestSpecification): number => (/graph|linearCost|promptList/.test(file.moduleId) ? 2 : file.moduleId.includes(".property.") ? 1 : 0);
    return Promise.resolve([...files].sort((a, b) => cost(a) - cost(b) || a.moduleId.localeCompare(b.moduleId)));
  }
}

export default mergeConfig(
  base,
  defineProject({
    test: {
      // test/mutation.setup.ts: one fast-check seed, and the compiled transition table built per test.
      setupFiles: ["test/mutation.setup.ts"],
      // Stryker switches mutants at run time (static ones are left out, see stryker.config.mjs), so
      // modules loaded once can serve every test file: the run without mutants drops from minutes
      // to seconds. The one module cache that matters, the compiled table, is dropped per test.
      isolate: false,
      sequence: { sequencer: CheapFirst },
    },
  }),
);
