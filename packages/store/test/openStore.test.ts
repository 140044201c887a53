import { createInMemoryStore, openStore } from "@cloudsession/store";
import { describe, expect, it } from "vitest";

describe("openStore", () => {
  it("memory: opens an in-memory store with the injected clock", async () => {
    const store = await openStore("memory:", { now: () => 1234 });
    const { events } = await store.append("s", [{ type: "A", data: null }]);
    expect(events[0]?.recordedAt).toBe(1234);
    expect((await store.listStreams())[0]).toMatchObject({ createdAt: 1234, updatedAt: 1234 });
    await store.close();
  });

  it("the in-memory store stores copies: mutating input or output changes nothing", async () => {
    const store = createInMemoryStore();
    const data = { list: [1] };
    await store.append("s", [{ type: "A", data }]);
    data.list.push(2);
    const first = await store.readStream("s");
    (first.events[0]?.data as { list: number[] }).list.push(3);
    expect((await store.readStream("s")).events[0]?.data).toEqual({ list: [1] });
    await store.close();
  });

  it("rejects an invalid schema before touching a database", async () => {
    await expect(openStore("postgres://127.0.0.1:1/none", { schema: "Bad-Name" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
