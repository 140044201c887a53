// @ts-check
import { fileURLToPath } from "node:url";

/**
 * The StrykerJS settings shared by the packages' `stryker.config.mjs` (run through `pnpm mutate`,
 * scripts/mutate.mjs; docs/contributing.md). Stryker runs from the repository root so that its
 * sandbox copy keeps the packages' `../../vitest.shared` import and pnpm's relative links working.
 *
 * @param {string} name the package folder under packages/
 * @param {Partial<import("@stryker-mutator/api/core").PartialStrykerOptions>} [overrides]
 * @returns {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
export function strykerConfig(name, overrides = {}) {
  const dir = `packages/${name}`;
  const reports = `reports/mutation/${name}`;
  return {
    packageManager: "pnpm",
    // By path: with pnpm's strict layout Stryker's core cannot see the plugins beside it by name.
    plugins: ["@stryker-mutator/vitest-runner", "@stryker-mutator/typescript-checker"].map((name) => fileURLToPath(import.meta.resolve(name))),
    testRunner: "vitest",
    vitest: { configFile: `${dir}/vitest.config.ts`, dir },
    checkers: ["typescript"],
    tsconfigFile: `${dir}/tsconfig.json`,
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    mutate: [`${dir}/src/**/*.ts`, `!${dir}/src/index.ts`],
    coverageAnalysis: "perTest",
    // A re-run after a small change tests only the mutants whose code or tests changed. The file is
    // this checkout's own baseline (reports/ is not committed): a shared one would go stale on every
    // merge and conflict between branches.
    incremental: true,
    incrementalFile: `${reports}/incremental.json`,
    reporters: ["clear-text", "progress", "html", "json"],
    htmlReporter: { fileName: `${reports}/index.html` },
    jsonReporter: { fileName: `${reports}/mutation.json` },
    clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
    // Only what the package's tests load: the workspace's other sources stay out of the sandbox.
    ignorePatterns: ["reports", ".stryker-tmp", "packages/bench/results", "docs", "examples"],
    tempDirName: ".stryker-tmp",
    cleanTempDir: true,
    concurrency: Number(process.env.CLOUDSESSION_MUTATE_CONCURRENCY ?? 2),
    // A mutant that loops is stopped at 1.25 × its tests' own time plus 5 s (Stryker's defaults: 1.5 and 10 s).
    timeoutMS: 5_000,
    timeoutFactor: 1.25,
    thresholds: { high: 90, low: 80, break: null },
    ...overrides,
  };
}
