/**
 * Entry of `pnpm bench`: runs every benchmark (or `--only a,b`), prints one table, writes JSON under
 * `results/`. `--quick` is the CI breakage check: small sizes, no thresholds asserted.
 *
 *   tsx --conditions=@cloudsession/source --expose-gc src/main.ts [--quick] [--only name[,name]] [--results-dir dir]
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeHostCpu } from "./hostCpu.js";
import { formatTable } from "./report.js";
import { runBenchmarks } from "./runBenchmarks.js";

const { values } = parseArgs({
  // `pnpm run bench -- --quick` passes a literal `--`, which would end option parsing.
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", multiple: true, default: [] },
    "results-dir": { type: "string", default: fileURLToPath(new URL("../results", import.meta.url)) },
  },
});

if ((globalThis as { gc?: unknown }).gc === undefined) console.error("warning: run with --expose-gc, or heap figures include garbage");
const started = performance.now();
const { results, failed } = await runBenchmarks({
  quick: values.quick,
  only: values.only.flatMap((name) => name.split(",")).filter((name) => name !== ""),
  resultsDir: values["results-dir"],
  log: (message) => console.error(message),
});
console.log(`\ncloudsession benchmarks${values.quick ? " (quick: sizes too small for figures, no thresholds)" : ""}, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
console.log(formatTable(results));
// On a shared VM, CPU stolen by the hypervisor moves tails and rates: read the figures with it.
console.log(`\n${results.map((result) => `${result.name}: ${describeHostCpu(result.hostCpu)}`).join("\n")}`);
if (failed.length > 0) console.log(`\nFAILED: ${failed.join(", ")}`);
// Sockets or timers left by a benchmark must not keep the process up.
process.exit(failed.length > 0 ? 1 : 0);
