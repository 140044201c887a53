import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HostCpuShare } from "./hostCpu.js";

/**
 * One figure of a benchmark: the subject measured next to its baseline in the same run. `ratio` is
 * always subject / baseline; `target` says which way is good.
 */
export interface Figure {
  readonly metric: string;
  readonly unit: string;
  readonly subject: number;
  /** What the subject is compared with, measured in the same run; null for an absolute target. */
  readonly baseline: number | null;
  readonly baselineLabel: string;
  readonly ratio: number | null;
  /** Human-readable target, e.g. `>= 0.5x` or `<= 2 ms`; `-` when the issue sets none. */
  readonly target: string;
  /** Null when there is no target. */
  readonly met: boolean | null;
}

export interface BenchmarkResult {
  readonly name: string;
  readonly quick: boolean;
  readonly figures: readonly Figure[];
  /** Raw samples, sizes and settings, written to the JSON file. */
  readonly details: Readonly<Record<string, unknown>>;
  /** How the host's CPU time went while the benchmark ran (set by the runner; Linux only). */
  readonly hostCpu?: HostCpuShare;
}

export interface BenchmarkContext {
  readonly quick: boolean;
  readonly log: (message: string) => void;
}

export interface Benchmark {
  readonly name: string;
  readonly title: string;
  run(context: BenchmarkContext): Promise<BenchmarkResult>;
}

/** Target on subject / baseline. */
export type RatioTarget = { readonly atLeast: number } | { readonly atMost: number } | null;
/** Target on the subject's own value. */
export type AbsoluteTarget = { readonly atLeast: number } | { readonly atMost: number } | null;

export function ratioFigure(input: { metric: string; unit: string; subject: number; baseline: number; baselineLabel: string; target: RatioTarget }): Figure {
  const ratio = input.subject / input.baseline;
  const { target } = input;
  return {
    metric: input.metric,
    unit: input.unit,
    subject: input.subject,
    baseline: input.baseline,
    baselineLabel: input.baselineLabel,
    ratio,
    target: target === null ? "-" : "atLeast" in target ? `>= ${target.atLeast}x` : `<= ${target.atMost}x`,
    met: target === null ? null : "atLeast" in target ? ratio >= target.atLeast : ratio <= target.atMost,
  };
}

export function absoluteFigure(input: { metric: string; unit: string; subject: number; baseline: number | null; baselineLabel: string; target: AbsoluteTarget }): Figure {
  const { target } = input;
  return {
    metric: input.metric,
    unit: input.unit,
    subject: input.subject,
    baseline: input.baseline,
    baselineLabel: input.baselineLabel,
    ratio: input.baseline === null || input.baseline === 0 ? null : input.subject / input.baseline,
    target: target === null ? "-" : "atLeast" in target ? `>= ${formatNumber(target.atLeast)} ${input.unit}` : `<= ${formatNumber(target.atMost)} ${input.unit}`,
    met: target === null ? null : "atLeast" in target ? input.subject >= target.atLeast : input.subject <= target.atMost,
  };
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Runs `gc()` a few times when the process was started with `--expose-gc`; returns whether it could. */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return false;
  for (let i = 0; i < 3; i++) gc();
  return true;
}

/** Yields to the event loop (timers, I/O), e.g. so a GC finaliser or a socket close can run. */
export function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function formatNumber(value: number | null): string {
  if (value === null) return "-";
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(abs >= 1 ? 2 : 3);
}

/** The results as a fixed-width table: benchmark, metric, subject, baseline, ratio, target, met?. */
export function formatTable(results: readonly BenchmarkResult[]): string {
  const header = ["benchmark", "metric", "subject", "baseline", "ratio", "target", "met?"];
  const rows: string[][] = [];
  for (const result of results) {
    for (const figure of result.figures) {
      rows.push([
        result.name,
        figure.metric,
        `${formatNumber(figure.subject)} ${figure.unit}`,
        figure.baseline === null ? "-" : `${formatNumber(figure.baseline)} ${figure.unit} (${figure.baselineLabel})`,
        figure.ratio === null ? "-" : `${figure.ratio.toFixed(2)}x`,
        figure.target,
        figure.met === null ? "-" : figure.met ? "yes" : "NO",
      ]);
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [line(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** Writes `<dir>/<name>.json` (full run) or `<dir>/<name>.quick.json`. */
export function writeResult(dir: string, result: BenchmarkResult): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.name}${result.quick ? ".quick" : ""}.json`);
  const environment = { node: process.version, platform: process.platform, arch: process.arch, date: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify({ ...result, environment }, null, 2)}\n`);
  return file;
}
