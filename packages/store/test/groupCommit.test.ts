import { createGroupCommitter, type BatchOutcome } from "@cloudsession/store";
import { describe, expect, it } from "vitest";

const double = (batch: readonly number[]): BatchOutcome<number>[] => batch.map((n) => ({ ok: true, value: n * 2 }));

describe("createGroupCommitter", () => {
  it("coalesces requests issued in the same tick into one flush", async () => {
    const batches: number[][] = [];
    const committer = createGroupCommitter<number, number>((batch) => {
      batches.push([...batch]);
      return Promise.resolve(double(batch));
    });
    expect(await Promise.all([1, 2, 3].map((n) => committer.submit(n)))).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("queues requests that arrive during a flush into the next one", async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const committer = createGroupCommitter<number, number>(async (batch) => {
      batches.push([...batch]);
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return double(batch);
    });
    const first = committer.submit(1);
    await Promise.resolve();
    await Promise.resolve();
    const later = [2, 3, 4].map((n) => committer.submit(n));
    release();
    expect(await Promise.all([first, ...later])).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it("settles each request with its own outcome", async () => {
    const committer = createGroupCommitter<number, number>((batch) =>
      Promise.resolve(batch.map((n): BatchOutcome<number> => (n === 2 ? { ok: false, error: new Error("two") } : { ok: true, value: n }))),
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => committer.submit(n)));
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("rejects the whole batch when the flush throws, and keeps working after", async () => {
    let fail = true;
    const committer = createGroupCommitter<number, number>((batch) => (fail ? Promise.reject(new Error("connection lost")) : Promise.resolve(double(batch))));
    await expect(Promise.all([committer.submit(1), committer.submit(2)])).rejects.toThrow("connection lost");
    fail = false;
    expect(await committer.submit(5)).toBe(10);
  });

  it("caps batch weight but never splits a single heavy request", async () => {
    const batches: number[][] = [];
    const committer = createGroupCommitter<number, number>(
      (batch) => {
        batches.push([...batch]);
        return Promise.resolve(double(batch));
      },
      { weight: (n) => n, maxBatchWeight: 10 },
    );
    await Promise.all([4, 4, 4, 50, 1].map((n) => committer.submit(n)));
    expect(batches).toEqual([[4, 4], [4], [50], [1]]);
  });

  it("drain waits for queued and in-flight work", async () => {
    const done: number[] = [];
    const committer = createGroupCommitter<number, number>(async (batch) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      done.push(...batch);
      return double(batch);
    });
    await committer.drain();
    void committer.submit(1);
    void committer.submit(2);
    await committer.drain();
    expect(done).toEqual([1, 2]);
  });
});

describe("createGroupCommitter with keys and concurrent flushes", () => {
  it("never puts one key in two flushes at once, so same-key requests stay in order", async () => {
    const inFlight = new Set<string>();
    const order: string[] = [];
    const committer = createGroupCommitter<string, string>(
      async (batch) => {
        // One batch may hold several requests of a key (the flush applies them in order); two
        // concurrent batches may not share one.
        const keys = new Set(batch.map((request) => request.split(":")[0]!));
        for (const key of keys) expect(inFlight.has(key)).toBe(false);
        for (const key of keys) inFlight.add(key);
        await new Promise((resolve) => setTimeout(resolve, 5));
        for (const key of keys) inFlight.delete(key);
        order.push(...batch);
        return batch.map((value) => ({ ok: true, value }));
      },
      { maxConcurrentFlushes: 3, maxBatchWeight: 2, key: (request) => request.split(":")[0]! },
    );
    const requests = ["a:1", "a:2", "b:1", "a:3", "c:1", "b:2", "c:2", "a:4"];
    await Promise.all(requests.map((request) => committer.submit(request)));
    for (const key of ["a", "b", "c"]) {
      expect(order.filter((request) => request.startsWith(`${key}:`))).toEqual(requests.filter((request) => request.startsWith(`${key}:`)));
    }
    await committer.drain();
  });

  it("spreads a heavy queue over idle flush slots, and sends a light one whole", async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const committer = createGroupCommitter<number, number>(
      async (batch) => {
        batches.push([...batch]);
        await gate;
        return double(batch);
      },
      { maxConcurrentFlushes: 2, spreadFrom: 4 },
    );
    const heavy = [1, 2, 3, 4, 5].map((n) => committer.submit(n));
    await Promise.resolve();
    // Both slots busy now: what arrives waits, and is spread again once both are free.
    const later = [6, 7, 8, 9, 10, 11].map((n) => committer.submit(n));
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
    release();
    await Promise.all([...heavy, ...later]);
    expect(batches).toEqual([[1, 2, 3], [4, 5], [6, 7, 8], [9, 10, 11]]);

    const light: number[][] = [];
    const whole = createGroupCommitter<number, number>((batch) => (light.push([...batch]), Promise.resolve(double(batch))), { maxConcurrentFlushes: 2, spreadFrom: 4 });
    await Promise.all([1, 2, 3].map((n) => whole.submit(n)));
    expect(light).toEqual([[1, 2, 3]]);
  });
});
