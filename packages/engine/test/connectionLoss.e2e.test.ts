import type { SessionEvent } from "@cloudsession/machine";
import { startSimulator, type ScenarioInput, type Simulator } from "@cloudsession/simulator";
import { afterEach, describe, expect, test } from "vitest";
import { createEngine, type Engine, type SessionHandle } from "../src/index.js";
import { completed, isCutConnection, received, waitFor } from "./support/harness.js";
import { startTcpProxy, type TcpProxy } from "./support/tcpProxy.js";

/**
 * A dropped connection is noticed from the transport, not at the next heartbeat: every test here
 * runs with the default heartbeat (5 s) and lifecycle deadlines shorter than it, as in the report
 * that found the gap (reservation 1.5 s, agent start 2 s, turn stall 1 s). A deadline that comes
 * due while the engine cannot see the runtime must not end the session.
 */
const SHORT_DEADLINES = { reservationTimeoutMs: 1_500, agentStartTimeoutMs: 2_000, turnStallTimeoutMs: 1_000 } as const;
const repository = { owner: "octo", name: "contact" };
/** A reply of 40 chunks, one every 20 ms: a turn of about 0.8 s to drop the connection in. */
const LONG_TURN: ScenarioInput["defaults"] = { noise: false, reply: "0123456789".repeat(20), chunkSizeChars: [5, 5], chunkLatencyMs: [2_000, 2_000] };

interface Rig {
  readonly sim: Simulator;
  readonly proxy: TcpProxy;
  readonly engine: Engine;
}

let rig: Rig | undefined;
afterEach(async () => {
  const current = rig;
  rig = undefined;
  if (!current) return;
  closing = true;
  await current.engine.close();
  await current.proxy.close();
  await current.sim.close();
  closing = false;
});

let closing = false;
const reported: unknown[] = [];
function onError(error: unknown): void {
  if (!(closing && isCutConnection(error))) reported.push(error);
}

/** The simulator behind a proxy the test can cut; the engine with the default heartbeat. */
async function setUp(defaults: ScenarioInput["defaults"], timeouts: Record<string, number> = {}): Promise<Rig> {
  reported.length = 0;
  const sim = await startSimulator({ seed: 7, timeScale: 0.01, defaults });
  const proxy = await startTcpProxy(sim.url);
  const engine = createEngine({ runtimeUrl: proxy.url, timeouts: { ...SHORT_DEADLINES, ...timeouts }, onError });
  rig = { sim, proxy, engine };
  return rig;
}

/** The session's contact events as they are recorded, with the wall time each was heard. */
function watchContact(session: SessionHandle): { readonly events: SessionEvent[] } {
  const events: SessionEvent[] = [];
  session.events$.subscribe((event) => {
    if (event.type === "runtime.disconnected" || event.type === "runtime.reconnected") events.push(event);
  });
  return { events };
}

/** Drops the link now; resolves with the milliseconds until the session recorded `runtime.reconnected`. */
async function dropAndTimeReconnect(r: Rig, session: SessionHandle, contact: { readonly events: SessionEvent[] }): Promise<number> {
  const before = contact.events.length;
  const droppedAt = Date.now();
  expect(r.proxy.cut()).toBeGreaterThan(0);
  await waitFor(() => contact.events.slice(before).some((event) => event.type === "runtime.reconnected"), "runtime.reconnected", 5_000);
  const back = contact.events.slice(before).find((event) => event.type === "runtime.reconnected");
  return (back?.at ?? Number.NaN) - droppedAt;
}

const latencies: number[] = [];

describe("a dropped connection, noticed from the transport (default heartbeat, short deadlines)", () => {
  test("(a) mid-stream: out of contact, re-attached, the turn settled from history; every prompt answered once", async () => {
    const r = await setUp(LONG_TURN);
    const session = await r.engine.start({ repository, prompts: ["first", "second"] });
    const contact = watchContact(session);
    await waitFor(() => session.state === "streaming" && (session.snapshot().context.prompts.at(0)?.status ?? "") === "sent", "the first turn streaming");
    await new Promise((resolve) => setTimeout(resolve, 100));
    latencies.push(await dropAndTimeReconnect(r, session, contact));
    await waitFor(() => completed(session) === 2, "both turns", 10_000);
    expect(received(r.sim, session)).toEqual(["first", "second"]);
    expect(session.snapshot().context.failure).toBeNull();
    expect(contact.events.map((event) => event.type)).toEqual(["runtime.disconnected", "runtime.reconnected"]);
    expect(reported).toEqual([]);
    expect((await session.close()).state).toBe("closed");
  });

  test("(b) while awaiting the agent: its start, missed live, is read from history; no false timeout", async () => {
    // The worker connects 1 s after the reservation; the agent-start deadline is 2 s.
    const r = await setUp({ ...LONG_TURN, agentConnectLatencyMs: [100_000, 100_000] });
    const session = await r.engine.start({ repository, prompts: ["first"] });
    const contact = watchContact(session);
    await waitFor(() => session.state === "awaiting-agent", "awaiting-agent");
    latencies.push(await dropAndTimeReconnect(r, session, contact));
    await waitFor(() => completed(session) === 1, "the turn", 10_000);
    expect(received(r.sim, session)).toEqual(["first"]);
    expect(session.snapshot().context.failure).toBeNull();
    expect(reported).toEqual([]);
    await session.close();
  });

  test("(c) between turns: a prompt sent right after the drop is held until the re-attach, then delivered once", async () => {
    const r = await setUp(LONG_TURN);
    const session = await r.engine.start({ repository, prompts: ["first"] });
    const contact = watchContact(session);
    await waitFor(() => completed(session) === 1 && session.state === "ready", "the first turn");
    const reconnect = dropAndTimeReconnect(r, session, contact);
    await session.send("second");
    latencies.push(await reconnect);
    await waitFor(() => completed(session) === 2, "the second turn", 10_000);
    expect(received(r.sim, session)).toEqual(["first", "second"]);
    expect(session.snapshot().context.failure).toBeNull();
    expect(reported).toEqual([]);
    await session.close();
  });

  test("(d) while an abort is in flight: the abort reaches the turn (again on the new connection), the next prompt is answered once", async () => {
    const r = await setUp(LONG_TURN);
    const session = await r.engine.start({ repository, prompts: ["long", "next"] });
    const contact = watchContact(session);
    await waitFor(() => session.state === "streaming" && (session.snapshot().context.prompts.at(0)?.status ?? "") === "sent", "the first turn streaming");
    await session.abortTurn();
    latencies.push(await dropAndTimeReconnect(r, session, contact));
    await waitFor(() => session.snapshot().context.prompts.at(1)?.status === "completed", "the second turn", 10_000);
    const [first] = session.snapshot().context.prompts;
    // The abort landed before the drop, or was sent again after the re-attach: either way the turn ended by it.
    expect(first?.status).toBe("interrupted");
    expect(received(r.sim, session)).toEqual(["long", "next"]);
    expect(session.snapshot().context.failure).toBeNull();
    expect(reported).toEqual([]);
    await session.close();
  });

  test("drop to reconnect takes well under the heartbeat on loopback", () => {
    // Measured by the four tests above (in file order); printed for the record.
    expect(latencies).toHaveLength(4);
    console.log(`drop -> runtime.reconnected (ms): ${latencies.map((ms) => ms.toFixed(0)).join(", ")}`);
    for (const ms of latencies) expect(ms).toBeLessThan(5_000);
  });
});

describe("out of contact for longer than a deadline", () => {
  test("the agent started while the runtime was unreachable past the agent-start deadline: no verdict until the history is read", async () => {
    // The worker connects 0.5 s after the reservation; the link is down from then for 3 s (deadline 2 s).
    const r = await setUp({ ...LONG_TURN, agentConnectLatencyMs: [50_000, 50_000] });
    const session = await r.engine.start({ repository, prompts: ["first"] });
    await waitFor(() => session.state === "awaiting-agent", "awaiting-agent");
    r.proxy.refuse(true);
    r.proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(session.state).toBe("awaiting-agent");
    expect(session.snapshot().context.contactLostAt).not.toBeNull();
    r.proxy.refuse(false);
    await waitFor(() => completed(session) === 1, "the turn after contact is back", 30_000);
    expect(received(r.sim, session)).toEqual(["first"]);
    expect(session.snapshot().context.failure).toBeNull();
    await session.close();
  });

  test("a runtime that stays unreachable ends the session after unreachableTimeoutMs: runtime-unreachable, prompts reported", async () => {
    const r = await setUp({ ...LONG_TURN, chunkLatencyMs: [20_000, 20_000] }, { unreachableTimeoutMs: 1_500 });
    const session = await r.engine.start({ repository, prompts: ["first", "queued"] });
    await waitFor(() => session.state === "streaming" && (session.snapshot().context.prompts.at(0)?.status ?? "") === "sent", "the first turn streaming");
    r.proxy.refuse(true);
    r.proxy.cut();
    const outcome = await session.outcome;
    expect(outcome.state).toBe("failed");
    expect(outcome.failure).toMatchObject({ phase: "streaming", reason: "runtime-unreachable" });
    expect(outcome.prompts.map((prompt) => [prompt.status, prompt.reason])).toEqual([
      ["interrupted", "session-failed"],
      ["undelivered", "session-failed"],
    ]);
    const log = await r.engine.history(session.id);
    const lost = log.find((event) => event.type === "runtime.disconnected");
    const failedAt = log.at(-1)?.at ?? 0;
    expect(lost).toBeDefined();
    // Not before the limit; the re-attach retries (with backoff) do not end it early.
    expect(failedAt - (lost?.at ?? 0)).toBeGreaterThanOrEqual(1_500);
  });
});
