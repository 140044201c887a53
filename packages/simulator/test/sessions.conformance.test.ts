import { approveAll, type SessionLifecycleEvent } from "@github/copilot-sdk";
import { describe, expect, it } from "vitest";
import { PRESET_BEHAVIOURS } from "../src/index.js";
import { useSimulators, isAgentStart, isIdle, pause, record, repo } from "./helpers.js";

const FAST = { timeScale: 0.01, seed: 31 } as const;

const { sim, client } = useSimulators(FAST);

describe("resume", () => {
  it("from a second client: session.resume, no remote URL again, events fan out to both connections", async () => {
    const s = await sim();
    const c1 = await client(s);
    const first = await c1.createSession({ streaming: true, ...repo("octo", "resume") });
    const rec1 = record(first);
    await rec1.waitFor(isAgentStart);
    await first.sendAndWait("from one");

    const c2 = await client(s);
    const second = await c2.resumeSession(first.sessionId, { onPermissionRequest: approveAll, streaming: true });
    const rec2 = record(second);
    const resumeEvent = await rec2.waitFor((e) => e.type === "session.resume");
    expect(resumeEvent.data).toMatchObject({ eventCount: 6 });
    await second.sendAndWait("from two");
    await rec1.waitFor((e) => e.type === "user.message" && e.data.content === "from two");
    expect(rec2.types()).not.toContain("session.info");
    expect(rec1.types().filter((t) => t === "session.info")).toHaveLength(1);

    const history = (await second.getEvents()).map((e) => e.type);
    expect(history).toEqual([
      "session.start", "session.info",
      "user.message", "assistant.turn_start", "assistant.message", "assistant.turn_end",
      "session.resume",
      "user.message", "assistant.turn_start", "assistant.message", "assistant.turn_end",
    ]);
    const stats = s.stats.sessions.get(first.sessionId);
    expect(stats?.resumes).toBe(1);
    expect(stats?.resumeParams[0]).toMatchObject({ cloudPassed: false, streaming: true });
    expect(stats?.promptsReceived).toEqual(["from one", "from two"]);
    expect(s.stats.resumes).toBe(1);
  });

  it("history after resume reflects only what the worker received", async () => {
    const s = await sim({ ...FAST, defaults: { agentConnectLatencyMs: [30000, 30000] } });
    const c1 = await client(s);
    const session = await c1.createSession({ ...repo("octo", "lost") });
    await session.send("lost prompt");
    await record(session).waitFor(isAgentStart);
    const c2 = await client(s);
    const resumed = await c2.resumeSession(session.sessionId, { onPermissionRequest: approveAll });
    await pause(20);
    const history = await resumed.getEvents();
    expect(history.some((e) => e.type === "user.message")).toBe(false);
    expect(s.stats.sessions.get(session.sessionId)?.promptsDropped).toEqual(["lost prompt"]);
  });

  it("resuming an unknown session is a JSON-RPC error", async () => {
    const s = await sim();
    const c = await client(s);
    await expect(c.resumeSession("nope", { onPermissionRequest: approveAll })).rejects.toMatchObject({ data: { reason: "session_not_found" } });
  });
});

describe("session management", () => {
  it("list, metadata, last id, lifecycle, disconnect and delete", async () => {
    const s = await sim();
    const c = await client(s);
    const lifecycle: SessionLifecycleEvent[] = [];
    c.onLifecycle((e) => lifecycle.push(e));
    const session = await c.createSession({ ...repo("octo", "meta") });
    await record(session).waitFor(isAgentStart);
    const list = await c.listSessions();
    expect(list.map((m) => m.sessionId)).toEqual([session.sessionId]);
    expect(list[0]).toMatchObject({ isRemote: true, context: { repository: "octo/meta" } });
    expect((await c.getSessionMetadata(session.sessionId))?.sessionId).toBe(session.sessionId);
    expect(await c.getSessionMetadata("missing")).toBeUndefined();
    expect(await c.getLastSessionId()).toBe(session.sessionId);
    expect(lifecycle.map((e) => e.type)).toEqual(["session.created"]);
    await session.disconnect();
    await c.deleteSession(session.sessionId);
    expect(await c.listSessions()).toEqual([]);
    expect(s.sessionIds()).toEqual([]);
  });
});

describe("one simulator, per-repository behaviours", () => {
  it("serves a normal, a slow-agent and a policy-blocked repository at once", async () => {
    const s = await sim({
      ...FAST,
      repositories: {
        "octo/slow": { agentConnectLatencyMs: [20000, 20000] },
        "octo/blocked": PRESET_BEHAVIOURS["policy-blocked"],
      },
    });
    const c = await client(s);
    const [normal, slow, blocked] = await Promise.allSettled([
      c.createSession({ ...repo("octo", "normal") }),
      c.createSession({ ...repo("octo", "slow") }),
      c.createSession({ ...repo("octo", "blocked") }),
    ]);
    if (normal.status !== "fulfilled" || slow.status !== "fulfilled") throw new Error("creates failed");
    expect(blocked).toMatchObject({ status: "rejected", reason: { data: { reason: "policy_blocked" } } });
    const normalRec = record(normal.value);
    const slowRec = record(slow.value);
    const t0 = performance.now();
    await normalRec.waitFor(isAgentStart);
    const tNormal = performance.now() - t0;
    await slowRec.waitFor(isAgentStart);
    const tSlow = performance.now() - t0;
    expect(tSlow).toBeGreaterThan(tNormal + 100);
    await Promise.all([normal.value.sendAndWait("n"), slow.value.sendAndWait("s")]);
    await normalRec.waitFor(isIdle);
    expect(s.stats.received.map((r) => r.prompt).sort()).toEqual(["n", "s"]);
  });
});
