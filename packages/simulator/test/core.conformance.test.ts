import { approveAll, type SessionEvent } from "@github/copilot-sdk";
import { describe, expect, it } from "vitest";
import type { ScenarioInput } from "../src/index.js";
import { connectClient, useSimulators, isAgentStart, isIdle, pause, record, repo } from "./helpers.js";

// Real SDK client against the simulator: the proof that the wire protocol is right.
const FAST: ScenarioInput = { timeScale: 0.01, seed: 11 };

const { sim, client } = useSimulators(FAST);

describe("handshake and runtime queries", () => {
  it("starts the real client and answers ping, status, auth and models", async () => {
    const s = await sim();
    const c = await client(s);
    const pong = await c.ping("hi");
    expect(pong.message).toBe("hi");
    expect(pong.protocolVersion).toBe(3);
    expect(await c.getStatus()).toMatchObject({ protocolVersion: 3 });
    expect(await c.getAuthStatus()).toMatchObject({ isAuthenticated: true });
    const models = await c.listModels();
    expect(models.map((m) => m.id)).toContain("claude-sonnet-4.5");
    expect(s.stats.handshakes).toBe(1);
    expect(s.stats.connectionsOpened).toBe(1);
  });

  it("checks the connection token", async () => {
    const s = await sim(FAST, { connectionToken: "sekrit" });
    await expect(connectClient(s, "wrong")).rejects.toThrow(/connection token/i);
    const c = await client(s, "sekrit");
    expect((await c.ping()).protocolVersion).toBe(3);
    expect(s.stats.handshakesRejected).toBe(1);
    expect(s.stats.handshakes).toBe(1);
  });

  it("records the runtime's identity from its own environment", async () => {
    const s = await sim(FAST, { env: { GITHUB_COPILOT_INTEGRATION_ID: "cloudsession-test", COPILOT_MC_BASE_URL: "http://127.0.0.1:9/agents" } });
    expect(s.stats.identity).toEqual({ integrationId: "cloudsession-test", missionControlBaseUrl: "http://127.0.0.1:9/agents" });
    const explicit = await sim(FAST, { integrationId: "explicit", env: {} });
    expect(explicit.stats.identity).toEqual({ integrationId: "explicit", missionControlBaseUrl: undefined });
  });
});

describe("cloud session, the docs' recommended pattern", () => {
  it("reserves, then the agent starts, publishes the URL once, and a streamed turn follows", async () => {
    const s = await sim();
    const c = await client(s);
    const session = await c.createSession({ streaming: true, onPermissionRequest: approveAll, ...repo("octo", "demo") });
    const rec = record(session);
    // Server-minted, uuid-shaped id.
    expect(session.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await rec.waitFor(isAgentStart);
    const info = await rec.waitFor((e) => e.type === "session.info");
    expect(info.data).toMatchObject({ infoType: "remote", url: `https://github.com/copilot/tasks/${session.sessionId}` });

    const messageId = await session.send("hello cloud");
    await rec.waitFor(isIdle);
    const persisted = rec.events.filter((e) => e.ephemeral !== true).map((e) => e.type);
    expect(persisted).toEqual(["session.start", "session.info", "user.message", "assistant.turn_start", "assistant.message", "assistant.turn_end"]);
    const user = rec.events.find((e) => e.type === "user.message");
    expect(user?.data).toMatchObject({ content: "hello cloud", messageId });
    const deltas = rec.events.flatMap((e) => (e.type === "assistant.message_delta" ? [e] : []));
    expect(deltas.length).toBeGreaterThan(1);
    expect(new Set(deltas.map((d) => d.ephemeral))).toEqual(new Set([true]));
    const message = rec.events.find((e) => e.type === "assistant.message");
    if (message?.type !== "assistant.message") throw new Error("no assistant.message");
    expect(message.data.originatingMessageId).toBe(messageId);
    expect(deltas.map((d) => d.data.deltaContent).join("")).toBe(message.data.content);
    expect(rec.events.filter((e) => e.type === "session.info")).toHaveLength(1);
    expect(rec.events.some((e) => e.type === "session.title_changed" || e.type === "pending_messages.modified")).toBe(true);

    const stats = s.stats.sessions.get(session.sessionId);
    expect(stats?.createParams).toEqual({ cloudPassed: true, repository: "octo/demo", sessionIdPassed: false, streaming: true, requestPermission: true });
    expect(stats?.promptsReceived).toEqual(["hello cloud"]);
    expect(s.stats.timesReceived("hello cloud")).toBe(1);
  });

  it("follows the real envelope: uuid ids, ISO timestamps, parentId = previous persisted event", async () => {
    const s = await sim();
    const c = await client(s);
    const session = await c.createSession({ streaming: true, ...repo("octo", "demo") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.send("envelope");
    await rec.waitFor(isIdle);
    let lastPersisted: string | null = null;
    for (const e of rec.events) {
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(e.timestamp).toISOString()).toBe(e.timestamp);
      expect(e.parentId).toBe(lastPersisted);
      if (e.ephemeral === true) continue;
      expect("ephemeral" in e).toBe(false);
      lastPersisted = e.id;
    }
  });

  it("history returns only persisted events, in order", async () => {
    const s = await sim();
    const c = await client(s);
    const session = await c.createSession({ streaming: true, ...repo("octo", "demo") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.send("one");
    await rec.waitFor(isIdle);
    const history = await session.getEvents();
    expect(history.map((e) => e.type)).toEqual(["session.start", "session.info", "user.message", "assistant.turn_start", "assistant.message", "assistant.turn_end"]);
    expect(history.every((e) => e.ephemeral !== true)).toBe(true);
    expect(history.map((e) => e.id)).toEqual(rec.events.filter((e) => e.ephemeral !== true).map((e) => e.id));
  });

  it("without streaming there are no deltas", async () => {
    const s = await sim();
    const c = await client(s);
    const session = await c.createSession({ ...repo("octo", "demo") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    const reply = await session.sendAndWait("no stream");
    expect(reply?.data.content).toBe("Simulated reply to: no stream");
    expect(rec.types()).not.toContain("assistant.message_delta");
    expect(s.stats.sessions.get(session.sessionId)?.createParams.streaming).toBe(false);
  });

  it("scripted replies: a table per prompt with a fallback, or a function", async () => {
    const s = await sim({ ...FAST, defaults: { reply: { ping: "pong", "*": "fallback" } }, repositories: { "octo/fn": { reply: (p, ctx) => `${ctx.turn}:${p.toUpperCase()}` } } });
    const c = await client(s);
    const a = await c.createSession({ ...repo("octo", "table") });
    await record(a).waitFor(isAgentStart);
    expect((await a.sendAndWait("ping"))?.data.content).toBe("pong");
    expect((await a.sendAndWait("other"))?.data.content).toBe("fallback");
    const b = await c.createSession({ ...repo("octo", "fn") });
    await record(b).waitFor(isAgentStart);
    expect((await b.sendAndWait("abc"))?.data.content).toBe("1:ABC");
  });
});

describe("local sessions", () => {
  it("start right away with no session.info, and honour the caller's id", async () => {
    const s = await sim();
    const c = await client(s);
    const seen: SessionEvent[] = [];
    const session = await c.createSession({ sessionId: "local-1", onEvent: (e) => seen.push(e) });
    expect(session.sessionId).toBe("local-1");
    // The client registers a local session before create, so the early start reaches onEvent.
    expect(seen.map((e) => e.type)).toEqual(["session.start"]);
    expect(seen[0]?.data).toMatchObject({ producer: "copilot-agent", sessionId: "local-1" });
    const reply = await session.sendAndWait("local hello");
    expect(reply?.data.content).toBe("Simulated reply to: local hello");
    expect(seen.some((e) => e.type === "session.info")).toBe(false);
    expect(s.stats.sessions.get("local-1")?.createParams).toMatchObject({ cloudPassed: false, sessionIdPassed: true });
  });
});

describe("the two-phase start trap", () => {
  it("a send racing the agent start gets a messageId and is silently dropped", async () => {
    // 300 real ms: a client's first request after create can take ~45 ms on loopback, so keep a margin.
    const s = await sim({ ...FAST, defaults: { agentConnectLatencyMs: [30000, 30000] } });
    const c = await client(s);
    const session = await c.createSession({ streaming: true, ...repo("octo", "race") });
    const rec = record(session);
    const early = await session.send("too early");
    expect(early).toMatch(/^[0-9a-f-]{36}$/);
    await rec.waitFor(isAgentStart);
    await pause(100);
    expect(rec.types().filter((t) => t.startsWith("assistant.") || t === "user.message")).toEqual([]);
    const stats = s.stats.sessions.get(session.sessionId);
    expect(stats?.promptsDropped).toEqual(["too early"]);
    expect(stats?.promptsReceived).toEqual([]);
    expect(s.stats.dropped.map((d) => d.messageId)).toEqual([early]);
    expect((await session.getEvents()).map((e) => e.type)).toEqual(["session.start", "session.info"]);

    // Once started, the session stays started.
    await session.sendAndWait("after start");
    expect(stats?.promptsReceived).toEqual(["after start"]);
    expect(s.stats.timesReceived("too early")).toBe(0);
    expect(s.stats.timesReceived("after start")).toBe(1);
  });
});

describe("permissions (protocol v3 broadcast + handlePendingPermissionRequest)", () => {
  it("round-trips an approval", async () => {
    const s = await sim();
    const c = await client(s);
    const asked: string[] = [];
    const session = await c.createSession({
      onPermissionRequest: (req, inv) => {
        asked.push(`${req.kind}:${inv.sessionId}`);
        return approveAll(req, inv);
      },
      ...repo("octo", "perm"),
    });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    const reply = await session.sendAndWait("run it, you have permission");
    expect(asked).toEqual([`shell:${session.sessionId}`]);
    const completed = rec.events.find((e) => e.type === "permission.completed");
    expect(completed?.data).toMatchObject({ result: { kind: "approved" } });
    expect(reply?.data.content).toMatch(/^\(permission granted\)/);
    expect(s.stats.sessions.get(session.sessionId)?.permissionDecisions).toEqual(["approve-once"]);
  });

  it("a rejection is reported and the turn still finishes", async () => {
    const s = await sim();
    const c = await client(s);
    const session = await c.createSession({ onPermissionRequest: () => ({ kind: "reject" }), ...repo("octo", "perm") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    const reply = await session.sendAndWait("needs permission");
    expect(rec.events.find((e) => e.type === "permission.completed")?.data).toMatchObject({ result: { kind: "denied-interactively-by-user" } });
    expect(reply?.data.content).toMatch(/denied/);
  });

  it("does not ask a client that has no permission handler", async () => {
    const s = await sim();
    const c = await client(s);
    const session = await c.createSession({ ...repo("octo", "perm") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.sendAndWait("permission?");
    expect(rec.types()).not.toContain("permission.requested");
  });
});

describe("abort", () => {
  it("ends the turn with abort + assistant.turn_end + session.idle{aborted:true}, no assistant.message", async () => {
    const s = await sim({ ...FAST, defaults: { chunkLatencyMs: [3000, 3000], reply: "a long answer that streams slowly" } });
    const c = await client(s);
    const session = await c.createSession({ streaming: true, ...repo("octo", "abort") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.send("long job");
    await rec.waitFor((e) => e.type === "assistant.message_delta");
    await session.abort();
    const idle = await rec.waitFor(isIdle);
    expect(idle.data).toMatchObject({ aborted: true });
    const types = rec.types().filter((t) => !t.endsWith("delta"));
    expect(types.slice(types.indexOf("abort"))).toEqual(["abort", "assistant.turn_end", "assistant.idle", "session.idle"]);
    expect(rec.types()).not.toContain("assistant.message");
    expect(rec.events.find((e) => e.type === "abort")?.data).toEqual({ reason: "user_initiated" });
    expect(s.stats.aborts).toBe(1);
    // The session stays usable.
    await pause(50);
    const reply = await session.sendAndWait("next");
    expect(reply?.data.content).toBe("a long answer that streams slowly");
  });
});

describe("determinism", () => {
  const run = async (seed: number): Promise<string[]> => {
    const s = await sim({ timeScale: 0.01, seed });
    const c = await client(s);
    const session = await c.createSession({ streaming: true, onPermissionRequest: approveAll, ...repo("octo", "seed") });
    const rec = record(session);
    await rec.waitFor(isAgentStart);
    await session.sendAndWait("first");
    await session.sendAndWait("second with permission");
    return [session.sessionId, ...rec.events.map((e) => `${e.id} ${e.type} ${e.type === "assistant.message_delta" ? e.data.deltaContent : ""}`)];
  };

  it("the same seed gives the same ids, event sequence, chunking and texts", async () => {
    const a = await run(42);
    const b = await run(42);
    const other = await run(43);
    expect(b).toEqual(a);
    expect(other).not.toEqual(a);
  });
});
