import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import type { BenchmarkResult } from "../src/report.js";
import { benchmarks } from "../src/runBenchmarks.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const resultsDir = mkdtempSync(join(tmpdir(), "cloudsession-bench-quick-"));
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

// The CI breakage check: the real entry point, in its own process (it needs --expose-gc), with
// `--quick`. No thresholds: only that every benchmark ran and produced finite figures.
describe("bench --quick", () => {
  test("every benchmark produces finite figures", () => {
    const tsx = join(packageDir, "node_modules", "tsx", "dist", "cli.mjs");
    const run = spawnSync(process.execPath, [tsx, "--conditions=@cloudsession/source", "--expose-gc", "src/main.ts", "--quick", "--results-dir", resultsDir], {
      cwd: packageDir,
      encoding: "utf8",
      // Generous: a breakage check, not a timing one (a loaded 2-core host took 110 s).
      timeout: 280_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const files = readdirSync(resultsDir).sort();
    expect(files).toEqual(benchmarks.map((benchmark) => `${benchmark.name}.quick.json`).sort());
    for (const file of files) {
      const result = JSON.parse(readFileSync(join(resultsDir, file), "utf8")) as BenchmarkResult;
      expect(result.quick).toBe(true);
      expect(result.figures.length).toBeGreaterThan(0);
      for (const figure of result.figures) {
        expect(Number.isFinite(figure.subject), `${result.name}: ${figure.metric} subject`).toBe(true);
        if (figure.baseline !== null) expect(Number.isFinite(figure.baseline), `${result.name}: ${figure.metric} baseline`).toBe(true);
      }
    }
  }, 300_000);
});
