import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { openPostgresStore } from "@cloudsession/store";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually, request } from "./support/http.js";
import { dropSchema, postgresReachable, postgresUrl, uniqueSchema } from "./support/postgres.js";
import { spawnService, type ServiceProcess } from "./support/serviceProcess.js";
import { submittedPrompts, type SubmittedPrompt } from "./support/sessionLog.js";

// Issue 21: "acknowledged, then lost". A 202 must mean the prompt is in the log. The service runs as
// a child process on PostgreSQL; the simulator runs here, so it outlives the service. The session's
// agent connects only after the restart, so every prompt reaches the worker from the second process
// and "delivered exactly once" is counted where it happens: at the simulator.
const BURST = 2_000;
const IN_FLIGHT = 20;
const schema = uniqueSchema("service_durability");

let sim: Simulator;
let reachable = false;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  reachable = await postgresReachable();
  if (!reachable) console.warn(`durability.e2e: PostgreSQL at ${postgresUrl} is not reachable; the test is skipped`);
  sim = await startSimulator({
    seed: 21,
    timeScale: 0.01,
    defaults: { noise: false, thinkLatencyMs: [0, 0], chunkLatencyMs: [0, 0], reply: { "*": "ok" } },
    repositories: { "octo/burst": { agentNeverConnects: true } }, // until sim.connectAgent()
  });
});

afterAll(async () => {
  for (const service of running) if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill("SIGKILL");
  await sim.close();
  if (reachable) await dropSchema(schema);
});

/** One POST of the burst: when it left and when its 202 came, on one counter shared by all of them. */
interface Attempt {
  readonly text: string;
  readonly sentAt: number;
  ackedAt?: number;
  promptId?: string;
  /** A status other than 202, or `no answer` (the connection died with the service). */
  refused?: number | "no answer";
}

type View = { state: string; sessionId: string | null; prompts: { id: string; status: string }[] };

test(`${BURST} prompts acknowledged (${IN_FLIGHT} in flight), SIGKILL at the last 202, restart: every acknowledged prompt is in the log and reaches the worker exactly once, in order`, { timeout: 900_000 }, async (context) => {
  if (!reachable) context.skip();
  const env = {
    DATABASE_URL: postgresUrl,
    CLOUDSESSION_DB_SCHEMA: schema,
    COPILOT_RUNTIME_URL: sim.url,
    CLOUDSESSION_MAX_QUEUED_PROMPTS: String(BURST * 2),
    // The agent is held back through the burst and the restart: on a busy machine that can take longer than the default minute.
    CLOUDSESSION_AGENT_START_TIMEOUT_MS: "900000",
    LOG_LEVEL: "warn",
  };
  const first = await spawnService(env);
  running.push(first);
  const started = await request("POST", `${first.url}/sessions`, { repository: { owner: "octo", name: "burst" }, prompts: ["opening"] });
  expect(started.status).toBe(202);
  const id = started.body.id as string;
  const { sessionId } = await eventually("the session awaiting its agent", async () => {
    const view = (await request("GET", `${first.url}/sessions/${id}`)).body as unknown as View;
    return view.state === "awaiting-agent" && view.sessionId !== null ? { sessionId: view.sessionId } : undefined;
  });

  // The burst: IN_FLIGHT clients post one prompt after another; the 202 that makes BURST kills the
  // service at once, with the other requests still in flight.
  const attempts: Attempt[] = [];
  let clock = 0;
  let acknowledged = 0;
  let killed = false;
  let burstMs = 0;
  const burstStarted = performance.now();
  const client = async () => {
    while (!killed) {
      const attempt: Attempt = { text: `burst ${attempts.length}`, sentAt: clock++ };
      attempts.push(attempt);
      try {
        // Named by the client, as a client that may retry does: the 202 can only name the prompt it acknowledged.
        const answer = await request("POST", `${first.url}/sessions/${id}/prompts`, { prompt: attempt.text, id: `burst-${attempt.sentAt}` });
        if (answer.status !== 202) {
          attempt.refused = answer.status;
          continue;
        }
        attempt.ackedAt = clock++;
        attempt.promptId = answer.body.id as string;
        if (++acknowledged === BURST) {
          killed = first.child.kill("SIGKILL");
          burstMs = performance.now() - burstStarted;
        }
      } catch {
        attempt.refused = "no answer";
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, client));
  expect((await first.exited).signal).toBe("SIGKILL");
  const acked = attempts.filter((attempt): attempt is Attempt & { promptId: string; ackedAt: number } => attempt.promptId !== undefined);
  expect(attempts.filter((attempt) => typeof attempt.refused === "number")).toEqual([]); // nothing refused before the kill
  expect(acked.length).toBeGreaterThanOrEqual(BURST);

  // Before anything restarts: the log as the dead process left it.
  const store = await openPostgresStore({ connectionString: postgresUrl, schema, poolSize: 1 });
  let logged: SubmittedPrompt[];
  try {
    logged = await submittedPrompts(store, id);
  } finally {
    await store.close();
  }
  const loggedIds = new Set(logged.map((prompt) => prompt.promptId));
  expect(loggedIds.size).toBe(logged.length);
  expect(acked.filter((attempt) => !loggedIds.has(attempt.promptId))).toEqual([]); // every 202 is in the log
  const attempted = new Set(["opening", ...attempts.map((attempt) => attempt.text)]);
  expect(logged.filter((prompt) => !attempted.has(prompt.text))).toEqual([]);
  // An acknowledgement orders: a prompt acknowledged before another was sent is before it in the log.
  const logIndex = new Map(logged.map((prompt, index) => [prompt.text, index]));
  expect(outOfOrder(acked, logIndex)).toEqual([]);
  expect(sim.stats.sessions.get(sessionId)?.sendsReceived ?? 0).toBe(0); // nothing reached the worker yet

  // Restart on the same store: the session is recovered; now its agent connects.
  const restartStarted = performance.now();
  const second = await spawnService(env);
  running.push(second);
  await eventually("the recovered session awaiting its agent", async () => ((await request("GET", `${second.url}/sessions/${id}`)).body.state === "awaiting-agent" ? true : undefined));
  const restartMs = performance.now() - restartStarted;
  const deliveryStarted = performance.now();
  sim.connectAgent(sessionId);
  const stats = sim.stats.sessions.get(sessionId);
  await eventually("every logged prompt answered", () => Promise.resolve((stats?.turnsCompleted ?? 0) >= logged.length ? true : undefined), 600_000);
  const deliveryMs = performance.now() - deliveryStarted;

  // At the worker: exactly the log, in the log's order: each prompt once, none twice, none lost.
  const received = stats?.promptsReceived ?? [];
  expect(received).toEqual(logged.map((prompt) => prompt.text));
  const times = new Map<string, number>();
  for (const text of received) times.set(text, (times.get(text) ?? 0) + 1);
  expect(acked.filter((attempt) => times.get(attempt.text) !== 1)).toEqual([]);
  expect(Math.max(...times.values())).toBe(1);
  expect(stats?.promptsDropped).toEqual([]);

  const view = await eventually("the service's view completed", async () => {
    const current = (await request("GET", `${second.url}/sessions/${id}`)).body as unknown as View;
    return current.prompts.every((prompt) => prompt.status === "completed") ? current : undefined;
  });
  expect(view.prompts.map((prompt) => prompt.id)).toEqual(logged.map((prompt) => prompt.promptId));

  console.log(
    `durability: ${JSON.stringify({
      acknowledged: acked.length,
      unansweredAtKill: attempts.filter((attempt) => attempt.refused === "no answer").length,
      inLogAfterKill: logged.length,
      inLogUnacknowledged: logged.length - 1 - acked.length,
      delivered: received.length,
      deliveredTwice: received.length - times.size,
      burstMs: Math.round(burstMs),
      acknowledgedPerSecond: Math.round((acked.length / burstMs) * 1_000),
      restartToRecoveredMs: Math.round(restartMs),
      deliveryMs: Math.round(deliveryMs),
    })}`,
  );

  expect((await request("DELETE", `${second.url}/sessions/${id}`)).body.state).toBe("closed");
  second.child.kill("SIGTERM");
  expect((await second.exited).code).toBe(0);
});

/**
 * Pairs (a, b) where a was acknowledged before b was sent, yet b is before a in `order`: none may
 * exist. One pass over the prompts by send time, with the latest position of those acknowledged so far.
 */
function outOfOrder(acked: readonly { text: string; sentAt: number; ackedAt: number }[], order: ReadonlyMap<string, number>): string[] {
  const byAck = [...acked].sort((a, b) => a.ackedAt - b.ackedAt);
  const bySend = [...acked].sort((a, b) => a.sentAt - b.sentAt);
  const problems: string[] = [];
  let latest: { text: string; index: number } | undefined;
  let next = 0;
  for (const prompt of bySend) {
    for (; next < byAck.length && (byAck[next]?.ackedAt ?? Infinity) < prompt.sentAt; next++) {
      const done = byAck[next];
      const index = done === undefined ? undefined : order.get(done.text);
      if (done !== undefined && index !== undefined && (latest === undefined || index > latest.index)) latest = { text: done.text, index };
    }
    const index = order.get(prompt.text) ?? -1;
    if (latest !== undefined && latest.index > index) problems.push(`"${latest.text}" was acknowledged before "${prompt.text}" was sent, but is after it`);
  }
  return problems;
}
