import { approveAll, type CopilotClient, type SessionEvent } from "@github/copilot-sdk";
import { describe, expect, it } from "vitest";
import { presetScenario, untidyBehaviour, type Simulator } from "../src/index.js";
import { pause, record, repo, useSimulators, type Recorder } from "./helpers.js";

const { sim, client } = useSimulators({ timeScale: 0.01, seed: 1 });

/** The untidy preset; turn 3 stalls after two chunks so that its abort lands at the same point in every run. */
const untidy = (seed: number, dropRate = 0) =>
  presetScenario("untidy", {
    timeScale: 0.01,
    seed,
    defaults: { ...untidyBehaviour({ dropRate }), turnFault: { kind: "stall", afterChunks: 2, turn: 3 } },
  });

/** Waits until the recorder has been quiet for a while: late events may follow an idle. */
async function settle(rec: Recorder): Promise<void> {
  for (let seen = -1; seen !== rec.events.length; ) {
    seen = rec.events.length;
    await pause(40);
  }
}

const isPlainIdle = (e: SessionEvent): boolean => e.type === "session.idle" && e.data.aborted !== true;

async function waitUntil(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await pause(5);
  }
}

interface Run {
  readonly sim: Simulator;
  readonly sessionId: string;
  /** `id type` of every delivered event: the first client's until the resume, then the resuming client's. */
  readonly delivered: string[];
  readonly first: SessionEvent[];
  readonly resumed: SessionEvent[];
  readonly lifecycle: string[];
  readonly history: readonly SessionEvent[];
}

/** Two turns, a stalled third one aborted mid-stream, then a resume from a second client. */
async function drive(seed: number): Promise<Run> {
  const s = await sim(untidy(seed));
  const c1 = await client(s);
  const lifecycle: string[] = [];
  c1.onLifecycle((e) => lifecycle.push(e.type));
  const session = await c1.createSession({ streaming: true, onPermissionRequest: approveAll, ...repo("octo", "untidy") });
  const rec = record(session);
  await rec.waitFor((e) => e.type === "session.start");
  for (const prompt of ["one", "two"]) {
    const idles = rec.events.filter(isPlainIdle).length;
    await session.send(prompt);
    await waitUntil(() => rec.events.filter(isPlainIdle).length > idles, `idle after ${prompt}`);
  }
  await session.send("three");
  const deltasOfTurn3 = (): number => rec.events.slice(rec.events.findIndex((e) => e.type === "user.message" && e.data.content === "three")).filter((e) => e.type === "assistant.message_delta").length;
  await waitUntil(() => rec.events.some((e) => e.type === "user.message" && e.data.content === "three") && deltasOfTurn3() === 2, "turn 3's two deltas");
  await settle(rec);
  await session.abort();
  await rec.waitFor((e) => e.type === "session.idle" && e.data.aborted === true);
  await settle(rec);
  const first = [...rec.events];
  const c2: CopilotClient = await client(s);
  const resumedEvents: SessionEvent[] = [];
  const resumed = await c2.resumeSession(session.sessionId, { onPermissionRequest: approveAll, onEvent: (e) => resumedEvents.push(e) });
  await waitUntil(() => resumedEvents.some((e) => e.type === "session.resume"), "session.resume");
  await pause(60);
  const history = await resumed.getEvents();
  return {
    sim: s,
    sessionId: session.sessionId,
    delivered: [...first, ...resumedEvents].map((e) => `${e.id} ${e.type}`),
    first,
    resumed: resumedEvents,
    lifecycle,
    history,
  };
}

/** History is one strict parent chain of persisted events, each once. */
function expectCanonical(history: readonly SessionEvent[]): void {
  expect(history.length).toBeGreaterThan(0);
  history.forEach((e, i) => {
    expect(e.ephemeral).toBeUndefined();
    expect(e.parentId).toBe(i === 0 ? null : history[i - 1]?.id);
  });
  expect(new Set(history.map((e) => e.id)).size).toBe(history.length);
}

/** Ephemeral events delivered before the persisted event they hang off. */
function ephemeralBeforeParent(events: readonly SessionEvent[]): number {
  const position = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.ephemeral !== true && !position.has(e.id)) position.set(e.id, i);
  });
  return events.filter((e, i) => e.ephemeral === true && e.parentId !== null && (position.get(e.parentId) ?? -1) > i).length;
}

/** `model.*` events delivered after a `session.idle` and before the next `user.message`. */
function modelAfterIdle(events: readonly SessionEvent[]): number {
  let idle = false;
  let count = 0;
  for (const e of events) {
    const type: string = e.type;
    if (type === "session.idle") idle = true;
    else if (type === "user.message") idle = false;
    else if (idle && type.startsWith("model.")) count++;
  }
  return count;
}

describe("untidy preset", () => {
  it("the same seed delivers the same sequence; another seed a different one", async () => {
    const a = await drive(11);
    const b = await drive(11);
    const other = await drive(12);
    expect(b.delivered).toEqual(a.delivered);
    expect(b.lifecycle).toEqual(a.lifecycle);
    expect(b.history.map((e) => e.id)).toEqual(a.history.map((e) => e.id));
    expect(other.delivered).not.toEqual(a.delivered);
  });

  it("every kind of disorder occurs over a few seeds, and history stays canonical through the SDK", async () => {
    const seen = { ephemeralFirst: 0, modelAfterIdle: 0, abortSwapped: 0, abortInOrder: 0, resumeTwice: 0, updated: 0, updatedBeforeCreated: 0, outsideUnion: 0 };
    for (let seed = 1; seed <= 8; seed++) {
      const run = await drive(seed);
      const { first, resumed, history } = run;
      expectCanonical(history);
      expect(history).toEqual(run.sim.history(run.sessionId));
      // Every persisted event reached one of the two clients; history has exactly those.
      const deliveredPersisted = new Set([...first, ...resumed].filter((e) => e.ephemeral !== true).map((e) => e.id));
      expect(deliveredPersisted).toEqual(new Set(history.map((e) => e.id)));
      // The replies are whole, whatever the order.
      const messages = history.filter((e) => e.type === "assistant.message").map((e) => e.data.content);
      expect(messages).toEqual(["Simulated reply to: one", "Simulated reply to: two"]);

      seen.ephemeralFirst += ephemeralBeforeParent(first);
      seen.modelAfterIdle += modelAfterIdle(first);
      const types = history.map((e) => e.type);
      const abortAt = types.indexOf("abort");
      const turnEndAt = types.lastIndexOf("assistant.turn_end");
      if (turnEndAt === abortAt - 1) seen.abortSwapped++;
      if (turnEndAt === abortAt + 1) seen.abortInOrder++;
      const resumeIds = resumed.filter((e) => e.type === "session.resume").map((e) => e.id);
      if (resumeIds.length === 2 && resumeIds[0] === resumeIds[1]) seen.resumeTwice++;
      expect(resumeIds.length === 1 || resumeIds.length === 2).toBe(true);
      expect(types.filter((t) => t === "session.resume")).toHaveLength(1);
      seen.updated += run.lifecycle.filter((t) => t === "session.updated").length;
      if (run.lifecycle.indexOf("session.updated") < run.lifecycle.indexOf("session.created")) seen.updatedBeforeCreated++;
      seen.outsideUnion += first.filter((e) => ["agent.interrupted", "model.turn_started", "model.response"].includes(e.type)).length;

      const u = run.sim.stats.untidy;
      expect(u.ephemeralBeforeParent).toBe(ephemeralBeforeParent(first) + ephemeralBeforeParent(resumed));
      expect(u.abortsSwapped).toBe(turnEndAt === abortAt - 1 ? 1 : 0);
      expect(u.redelivered).toBe(resumeIds.length - 1);
      expect(u.drops).toBe(0);
    }
    expect(seen.ephemeralFirst).toBeGreaterThan(0);
    expect(seen.modelAfterIdle).toBeGreaterThan(0);
    expect(seen.abortSwapped).toBeGreaterThan(0);
    expect(seen.abortInOrder).toBeGreaterThan(0);
    expect(seen.resumeTwice).toBeGreaterThan(0);
    expect(seen.updated).toBeGreaterThan(8 * 5);
    expect(seen.updatedBeforeCreated).toBeGreaterThan(0);
    expect(seen.updatedBeforeCreated).toBeLessThan(8);
    expect(seen.outsideUnion).toBeGreaterThan(0);
  });

  it("random drops close the client's socket mid-session; the turn finishes and a new client finds it in history", async () => {
    let drops = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const s = await sim(presetScenario("untidy", { timeScale: 0.01, seed, defaults: untidyBehaviour({ dropRate: 0.1 }) }));
      const c1 = await client(s);
      const created = await c1.createSession({ streaming: true, onPermissionRequest: approveAll, ...repo("octo", "drops") });
      const id = created.sessionId;
      // Requests go out only while the session is quiet (no turn running) and after a pause, so that a
      // client writes on a socket it already knows is closed: a write racing the close makes
      // vscode-jsonrpc throw an unhandled rejection (EPIPE) besides rejecting the request.
      const resumeOnNewClient = async () => {
        const resumed = await (await client(s)).resumeSession(id, { onPermissionRequest: approveAll });
        await pause(30);
        return resumed;
      };
      await waitUntil(() => s.stats.sessions.get(id)?.agentStarted === true, "agent start");
      await pause(30);
      let session = created;
      for (let attempt = 0; ; attempt++) {
        try {
          await session.send("survive");
          break;
        } catch (error) {
          // A drop can beat the send's answer: the prompt may have reached the worker all the same.
          if (s.stats.timesReceived("survive") === 1) break;
          if (attempt > 5) throw error;
          session = await resumeOnNewClient();
        }
      }
      await waitUntil(() => s.stats.sessions.get(id)?.turnsCompleted === 1, "the turn to finish on the runtime");
      let history: SessionEvent[] | undefined;
      for (let attempt = 0; history === undefined; attempt++) {
        try {
          history = await (await resumeOnNewClient()).getEvents();
        } catch (error) {
          if (attempt > 5) throw error;
        }
      }
      drops += s.stats.untidy.drops;
      expect(s.stats.connectionsDropped).toBeGreaterThanOrEqual(s.stats.untidy.drops);
      expectCanonical(history);
      expect(history).toEqual(s.history(id));
      expect(history.find((e) => e.type === "assistant.message")?.data.content).toBe("Simulated reply to: survive");
      expect(s.stats.timesReceived("survive")).toBe(1);
    }
    expect(drops).toBeGreaterThan(0);
  });

  it("dropConnections() destroys live sockets on demand, for all or for one session", async () => {
    const s = await sim({ timeScale: 0.01, seed: 4 });
    const c1 = await client(s);
    const c2 = await client(s);
    const a = await c1.createSession({ onPermissionRequest: approveAll, ...repo("octo", "a") });
    await c2.createSession({ onPermissionRequest: approveAll, ...repo("octo", "b") });
    expect(s.dropConnections(a.sessionId)).toBe(1);
    await waitUntil(() => s.stats.connectionsClosed === 1, "one close");
    expect(s.dropConnections(a.sessionId)).toBe(0);
    expect(s.dropConnections()).toBe(1);
    await waitUntil(() => s.stats.connectionsClosed === 2, "both closed");
    expect(s.stats.connectionsDropped).toBe(2);
    expect(() => s.dropConnections("nope")).toThrow(expect.objectContaining({ code: "unknown_session" }) as Error);
  });
});
