import { describe, expect, it } from "vitest";
import { EventLog } from "../src/events.js";
import { createScheduler } from "../src/scheduler.js";

describe("scheduler", () => {
  it("runs tasks in due order, then insertion order, scaled by timeScale", async () => {
    const scheduler = createScheduler(0.001);
    const order: string[] = [];
    scheduler.schedule(30_000, () => order.push("c"));
    scheduler.schedule(10_000, () => order.push("a"));
    scheduler.schedule(10_000, () => order.push("b"));
    const cancelled = scheduler.schedule(20_000, () => order.push("never"));
    cancelled.cancel();
    const t0 = performance.now();
    await scheduler.sleep(40_000);
    expect(order).toEqual(["a", "b", "c"]);
    // 40 simulated seconds took about 40 real ms; the bound is loose because CI cores are shared.
    expect(performance.now() - t0).toBeLessThan(5_000);
    scheduler.dispose();
  });

  it("holds 10,000 tasks with one timer and drains them", async () => {
    const scheduler = createScheduler(0.001);
    let ran = 0;
    for (let i = 0; i < 10_000; i++) scheduler.schedule(i % 1000, () => ran++);
    expect(scheduler.pending).toBe(10_000);
    await scheduler.sleep(2000);
    expect(ran).toBe(10_000);
    scheduler.dispose();
  });

  it("dispose drops pending work", async () => {
    const scheduler = createScheduler(0.01);
    let ran = false;
    scheduler.schedule(10, () => (ran = true));
    scheduler.dispose();
    await new Promise((r) => setTimeout(r, 30));
    expect(ran).toBe(false);
  });
});

describe("event log", () => {
  it("chains parentId through persisted events and keeps ephemeral ones out of history", () => {
    let n = 0;
    const log = new EventLog(() => `id-${n++}`, () => 0);
    const start = log.append("session.start", {});
    const delta = log.append("assistant.message_delta", { deltaContent: "x" });
    const message = log.append("assistant.message", { content: "x" });
    const idle = log.append("session.idle", {});
    const model = log.append("model.call_start", {});
    expect(start.parentId).toBeNull();
    expect(delta).toMatchObject({ parentId: "id-0", ephemeral: true });
    expect(message.parentId).toBe("id-0");
    expect("ephemeral" in message).toBe(false);
    expect(idle).toMatchObject({ parentId: "id-2", ephemeral: true });
    expect(model.ephemeral).toBe(true);
    expect(log.persisted.map((e) => e.type)).toEqual(["session.start", "assistant.message"]);
    expect(start.timestamp).toBe("1970-01-01T00:00:00.000Z");
  });
});
