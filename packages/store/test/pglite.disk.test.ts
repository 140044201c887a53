import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "@cloudsession/store";
import { afterAll, describe, expect, it } from "vitest";

// Boots PGlite twice (open, then reopen): the one test that must prove data survives a restart.
describe("PGlite on disk", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("keeps events and stream state across close and reopen", async () => {
    dir = await mkdtemp(join(tmpdir(), "cloudsession-store-"));
    const dataDir = join(dir, "events");
    const first = await openStore(dataDir);
    await first.append("session-1", [{ type: "SessionCreated", data: { repo: "octo/app" } }], { streamMetadata: { title: "demo" } });
    await first.append("session-1", [{ type: "SessionCompleted", data: {} }], { markFinal: true });
    await first.append("session-2", [{ type: "SessionCreated", data: {} }]);
    const before = await first.readAll();
    await first.close();

    const second = await openStore(dataDir);
    try {
      expect(await second.readAll()).toEqual(before);
      expect((await second.listStreams()).map((s) => s.streamId)).toEqual(["session-2"]);
      expect((await second.listStreams({ status: "final" }))[0]).toMatchObject({ streamId: "session-1", version: 2, metadata: { title: "demo" } });
      const next = await second.append("session-2", [{ type: "PromptSent", data: {} }], { expectedVersion: 1 });
      expect(next.events[0]?.position).toBeGreaterThan(before.events.at(-1)?.position ?? 0);
    } finally {
      await second.close();
    }
  }, 60_000);
});
