import { afterAll, describe, expect, test } from "vitest";
import { matching, parseNdjson, runCli, tempDir } from "./support/cli.js";

// One embedded (PGlite) store shared by the steps: the log has to outlive each process.
const store = tempDir("cloudsession-cli-");
afterAll(() => store.remove());

describe("the log outlives the process: show, ls and replay read what run recorded", () => {
  test("replay prints exactly the live run's transitions; show and ls agree with the outcome", async () => {
    const run = await runCli(["run", "--json", "--store", store.path, "--repo", "octo/demo", "first", "second"]);
    expect(run.code).toBe(0);
    const live = parseNdjson(run.stdout).filter((record) => record["type"] === "transition");
    const id = live[0]?.["session"];
    expect(typeof id).toBe("string");
    expect(live.map((record) => `${String(record["from"])} -> ${String(record["to"])}`)).toEqual([
      "null -> reserving.attempting",
      "reserving.attempting -> awaiting-agent",
      "awaiting-agent -> ready",
      "ready -> streaming.active",
      "streaming.active -> ready",
      "ready -> streaming.active",
      "streaming.active -> ready",
      "ready -> closed",
    ]);

    const replay = await runCli(["replay", String(id), "--json", "--store", store.path]);
    expect(replay.code).toBe(0);
    expect(parseNdjson(replay.stdout)).toEqual(live);

    const show = await runCli(["show", String(id), "--json", "--store", store.path]);
    expect(show.code).toBe(0);
    const [detail] = parseNdjson(show.stdout);
    expect(detail).toMatchObject({
      type: "session-detail",
      id,
      repository: "octo/demo",
      state: "closed",
      final: true,
      remoteUrl: matching(/^https:\/\/github\.com\/copilot\/tasks\//),
      prompts: [
        { text: "first", status: "completed", reply: "Simulated reply to: first" },
        { text: "second", status: "completed", reply: "Simulated reply to: second" },
      ],
    });
    const timeline = (detail?.["timeline"] ?? []) as { type: string }[];
    expect(timeline[0]?.type).toBe("session.requested");
    expect(timeline.at(-1)?.type).toBe("close.requested");

    const ls = await runCli(["ls", "--json", "--store", store.path]);
    expect(ls.code).toBe(0);
    expect(parseNdjson(ls.stdout)).toEqual([expect.objectContaining({ type: "session-summary", id, state: "closed", repository: "octo/demo", prompts: 2 })]);

    const missing = await runCli(["show", "no-such-session", "--store", store.path]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: no session no-such-session in this store\nhint: `\.\/cloudsession ls`/);
  }, 180_000);
});
