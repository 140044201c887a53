/** @cloudsession/bench: benchmarks that measure each figure next to its baseline in the same run. Nothing imports this package. */
export { benchmarks, runBenchmarks } from "./runBenchmarks.js";
export type { RunOptions } from "./runBenchmarks.js";
export { formatTable, writeResult } from "./report.js";
export type { Benchmark, BenchmarkContext, BenchmarkResult, Figure } from "./report.js";
