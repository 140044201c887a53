import { describe, expect, test } from "vitest";
import { describeHostCpu, hostCpuBetween, sampleHostCpu } from "../src/hostCpu.js";

// /proc/stat's first line: user nice system idle iowait irq softirq steal guest guest_nice.
const stat = (fields: string) => `cpu  ${fields}\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 12345\n`;

describe("host CPU shares from /proc/stat", () => {
  test("busy, I/O wait and stolen time between two samples, and the steal felt by the work", () => {
    const before = sampleHostCpu(() => stat("100 0 50 1000 10 5 5 40 0 0"));
    // +60 busy (40 user, 10 system, 5 irq, 5 softirq), +300 idle, +0 iowait, +40 steal: 400 ticks.
    const after = sampleHostCpu(() => stat("140 0 60 1300 10 10 10 80 0 0"));
    expect(before).toEqual({ busy: 160, idle: 1000, iowait: 10, steal: 40 });
    expect(hostCpuBetween(before, after)).toEqual({ busyPercent: 15, iowaitPercent: 0, stealPercent: 10, stealOfDemandPercent: 40 });
    expect(describeHostCpu(hostCpuBetween(before, after))).toBe("host CPU: 15% busy, 10% stolen by the hypervisor (40% of the time it wanted to run), 0% waiting on I/O");
  });

  test("no /proc/stat (not Linux), a malformed line, or no time passed: not measured rather than a made-up share", () => {
    expect(sampleHostCpu(() => { throw new Error("ENOENT"); })).toBeUndefined();
    expect(sampleHostCpu(() => "intr 1 2 3\n")).toBeUndefined();
    expect(sampleHostCpu(() => stat("1 2 x 4 5 6 7 8"))).toBeUndefined();
    const sample = sampleHostCpu(() => stat("1 2 3 4 5 6 7 8 0 0"));
    expect(hostCpuBetween(sample, sample)).toBeUndefined();
    expect(hostCpuBetween(undefined, sample)).toBeUndefined();
    expect(describeHostCpu(undefined)).toBe("host CPU: not measured (no /proc/stat)");
  });

  test("reads this machine's counters where it has them", () => {
    const sample = sampleHostCpu();
    if (process.platform !== "linux") {
      expect(sample).toBeUndefined();
      return;
    }
    expect(sample).toBeDefined();
    expect((sample?.busy ?? 0) + (sample?.idle ?? 0)).toBeGreaterThan(0);
  });
});
