import { adapterThroughput } from "./adapterThroughput.js";
import { clusterScaling } from "./clusterScaling.js";
import { dispatchLatency } from "./dispatchLatency.js";
import { durableAppends } from "./durableAppends.js";
import { endToEnd } from "./endToEnd.js";
import { intake } from "./intake.js";
import { manySessions } from "./manySessions.js";
import { recovery } from "./recovery.js";
import { replayThroughput } from "./replayThroughput.js";
import { describeHostCpu, hostCpuBetween, sampleHostCpu } from "./hostCpu.js";
import { formatTable, writeResult, type Benchmark, type BenchmarkResult } from "./report.js";

/** Every benchmark, in the order they run. */
export const benchmarks: readonly Benchmark[] = [adapterThroughput, dispatchLatency, endToEnd, replayThroughput, durableAppends, manySessions, recovery, clusterScaling, intake];

export interface RunOptions {
  readonly quick: boolean;
  /** Benchmark names to run; all when empty. */
  readonly only: readonly string[];
  /** Where `<name>.json` / `<name>.quick.json` go. */
  readonly resultsDir: string;
  readonly log: (message: string) => void;
}

/** Runs the selected benchmarks one after another, writes each result, returns them all. */
export async function runBenchmarks(options: RunOptions): Promise<{ results: BenchmarkResult[]; failed: string[] }> {
  const unknown = options.only.filter((name) => !benchmarks.some((benchmark) => benchmark.name === name));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${benchmarks.map((benchmark) => benchmark.name).join(", ")}`);
  const selected = options.only.length === 0 ? benchmarks : benchmarks.filter((benchmark) => options.only.includes(benchmark.name));
  const results: BenchmarkResult[] = [];
  const failed: string[] = [];
  for (const benchmark of selected) {
    const started = performance.now();
    options.log(`> ${benchmark.title}${options.quick ? " (quick)" : ""}`);
    let result: BenchmarkResult;
    try {
      const cpuBefore = sampleHostCpu();
      const ran = await benchmark.run({ quick: options.quick, log: (message) => options.log(`  ${benchmark.name}: ${message}`) });
      const hostCpu = hostCpuBetween(cpuBefore, sampleHostCpu());
      result = hostCpu === undefined ? ran : { ...ran, hostCpu };
    } catch (error) {
      // One broken benchmark must not hide the others' figures; the caller sees it in `failed`.
      options.log(`  ${benchmark.name}: FAILED ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      failed.push(benchmark.name);
      continue;
    }
    const file = writeResult(options.resultsDir, result);
    options.log(`  ${benchmark.name}: ${((performance.now() - started) / 1000).toFixed(1)} s, ${describeHostCpu(result.hostCpu)}; wrote ${file}`);
    options.log(formatTable([result]));
    results.push(result);
  }
  return { results, failed };
}
