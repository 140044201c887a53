import { readFileSync } from "node:fs";

/** The host's cumulative CPU time by kind (Linux `/proc/stat`, all CPUs), in clock ticks. */
export interface HostCpuSample {
  readonly busy: number;
  readonly idle: number;
  readonly iowait: number;
  /** Time the hypervisor ran something else while this VM's CPUs wanted to run. */
  readonly steal: number;
}

/** How the host's CPU time went between two samples, in percent of all of it. */
export interface HostCpuShare {
  readonly busyPercent: number;
  readonly iowaitPercent: number;
  readonly stealPercent: number;
  /** Stolen time as a share of the time this VM wanted to run (busy + stolen): the slowdown felt. */
  readonly stealOfDemandPercent: number;
}

/**
 * Reads the host's CPU counters, or undefined where there is no `/proc/stat` (not Linux). On a
 * shared virtual machine the steal share tells a noisy run from a slow engine: latency tails and
 * throughput move with it, the subject's and the baseline's alike.
 */
export function sampleHostCpu(read: () => string = () => readFileSync("/proc/stat", "utf8")): HostCpuSample | undefined {
  let text: string;
  try {
    text = read();
  } catch {
    return undefined;
  }
  const line = text.split("\n", 1)[0] ?? "";
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== "cpu" || fields.length < 9) return undefined;
  const counters = fields.slice(1, 9).map(Number);
  if (counters.some((value) => !Number.isFinite(value))) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = counters;
  return { busy: user + nice + system + irq + softirq, idle, iowait, steal };
}

/** The shares of CPU time between `before` and `after`; undefined when either is missing or no time passed. */
export function hostCpuBetween(before: HostCpuSample | undefined, after: HostCpuSample | undefined): HostCpuShare | undefined {
  if (before === undefined || after === undefined) return undefined;
  const busy = after.busy - before.busy;
  const idle = after.idle - before.idle;
  const iowait = after.iowait - before.iowait;
  const steal = after.steal - before.steal;
  const total = busy + idle + iowait + steal;
  if (total <= 0) return undefined;
  const percent = (part: number, whole: number) => Math.round((1000 * part) / whole) / 10;
  const demand = busy + steal;
  return {
    busyPercent: percent(busy, total),
    iowaitPercent: percent(iowait, total),
    stealPercent: percent(steal, total),
    stealOfDemandPercent: demand === 0 ? 0 : percent(steal, demand),
  };
}

export function describeHostCpu(share: HostCpuShare | undefined): string {
  if (share === undefined) return "host CPU: not measured (no /proc/stat)";
  return `host CPU: ${share.busyPercent}% busy, ${share.stealPercent}% stolen by the hypervisor (${share.stealOfDemandPercent}% of the time it wanted to run), ${share.iowaitPercent}% waiting on I/O`;
}
