import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore } from "@cloudsession/store";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readConfig, startService, type RunningService } from "../src/index.js";
import { eventually, request } from "./support/http.js";
import { connectEvents, readEvents } from "./support/sse.js";

let sim: Simulator;
let service: RunningService;

beforeAll(async () => {
  // #region test-setup
  sim = await startSimulator({
    seed: 3,
    timeScale: 0.01, // simulated time runs 100 times faster
    // A slow worker, so a test can act while the agent is not there yet.
    repositories: { "octo/slow": { agentConnectLatencyMs: [60_000, 60_000] } },
  });
  service = await startService({ port: 0, store: createInMemoryStore(), engine: { runtimeUrl: sim.url, heartbeatMs: 0 } });
  // #endregion test-setup
});

afterAll(async () => {
  await service.close();
  await sim.close();
});

type View = { state: string; missionControlUrl: string | null; sessionId: string | null; prompts: { text: string; status: string }[] };

async function view(id: string): Promise<View> {
  const response = await request("GET", `${service.url}/sessions/${id}`);
  expect(response.status).toBe(200);
  return response.body as unknown as View;
}

const allCompleted = (count: number) => async (id: string) => {
  const current = await view(id);
  return current.prompts.length === count && current.prompts.every((prompt) => prompt.status === "completed") ? current : undefined;
};

describe("the session API", () => {
  test("binds 127.0.0.1 unless told otherwise", () => {
    expect(readConfig({}).host).toBe("127.0.0.1");
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test("cluster mode is configured by CLOUDSESSION_INSTANCE_ID, and only on PostgreSQL", () => {
    expect(readConfig({}).instanceId).toBeUndefined();
    expect(readConfig({ DATABASE_URL: "postgres://127.0.0.1/app", CLOUDSESSION_INSTANCE_ID: "web-1" }).instanceId).toBe("web-1");
    expect(() => readConfig({ CLOUDSESSION_INSTANCE_ID: "web-1" })).toThrow(/needs DATABASE_URL/);
  });

  test("POST /sessions answers 202 with the id; GET shows state, Mission Control URL and each prompt's delivery", async () => {
    const started = await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "demo" }, prompts: ["Summarise the README"] });
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    expect(started.headers.get("location")).toBe(`/sessions/${id}`);
    expect(started.body.state).toBe("reserving");

    const added = await request("POST", `${service.url}/sessions/${id}/prompts`, { prompt: "Now list the TODOs" });
    expect(added.status).toBe(202);

    const done = await eventually("both prompts completed", () => allCompleted(2)(id));
    expect(done.state).toBe("ready");
    expect(done.missionControlUrl).toMatch(/^https:\/\/github\.com\/copilot\/tasks\//);
    expect(done.prompts.map((prompt) => prompt.text)).toEqual(["Summarise the README", "Now list the TODOs"]);
    expect(sim.stats.timesReceived("Summarise the README", done.sessionId ?? "")).toBe(1);
    expect(sim.stats.timesReceived("Now list the TODOs", done.sessionId ?? "")).toBe(1);

    const closed = await request("DELETE", `${service.url}/sessions/${id}`);
    expect(closed.status).toBe(200);
    expect(closed.body.state).toBe("closed");
    expect((await view(id)).state).toBe("closed"); // from the log now: the engine no longer runs it
    expect((await request("POST", `${service.url}/sessions/${id}/prompts`, { prompt: "too late" })).status).toBe(409);
  });

  test("clear 400s for bad input, 404 for an unknown session", async () => {
    const cases: [unknown, RegExp][] = [
      [{ repository: { owner: "octo", name: "demo" } }, /prompts/],
      [{ repository: { owner: "octo", name: "demo" }, prompts: [] }, /prompts/],
      [{ repository: { owner: "octo", name: "demo" }, prompts: ["  "] }, /prompts\/0/],
      [{ repository: { owner: "octo" }, prompts: ["hi"] }, /name/],
      [{ repository: { owner: "octo", name: "demo" }, prompts: ["hi"], extra: 1 }, /additional/],
      [{ repository: { owner: "-octo", name: "demo" }, prompts: ["hi"] }, /not a valid GitHub login/],
    ];
    for (const [body, message] of cases) {
      const response = await request("POST", `${service.url}/sessions`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.message).toMatch(message);
    }
    expect((await request("GET", `${service.url}/sessions/nope`)).status).toBe(404);
    expect((await request("POST", `${service.url}/sessions/nope/prompts`, { prompt: "hi" })).status).toBe(404);
    expect((await request("DELETE", `${service.url}/sessions/nope`)).status).toBe(404);
    expect((await fetch(`${service.url}/sessions/nope/events`)).status).toBe(404);
    const badHeader = await fetch(`${service.url}/sessions/nope/events`, { headers: { "last-event-id": "x" } });
    expect(badHeader.status).toBe(400);
  });

  test("GET /sessions/:id/events replays the log, follows it live, and resumes from Last-Event-ID without a gap or a repeat", async () => {
    const started = await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "demo" }, prompts: ["one", "two"] });
    const id = started.body.id as string;
    const url = `${service.url}/sessions/${id}/events`;

    // Disconnect in the middle of the session, as a flaky network would.
    const first = await readEvents(url, { until: (events) => events.some((event) => event.event === "prompt.dispatched") });
    expect(first.ended).toBe(false);
    const lastSeen = first.events.at(-1)?.id ?? 0;

    void eventually("both prompts completed", () => allCompleted(2)(id)).then(() => request("DELETE", `${service.url}/sessions/${id}`));
    const rest = await readEvents(url, { lastEventId: lastSeen });
    expect(rest.ended).toBe(true); // the server ends the stream when the session ends

    const ids = [...first.events, ...rest.events].map((event) => event.id);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, index) => index + 1));
    const log = await service.engine.history(id);
    expect([...first.events, ...rest.events].map((event) => event.data)).toEqual(log);
    expect(rest.events.at(-1)?.event).toBe("close.requested");

    // A client that comes back after the end gets the tail, then the end.
    const tail = await readEvents(url, { lastEventId: ids.length - 2 });
    expect(tail.events.map((event) => event.id)).toEqual([ids.length - 1, ids.length]);
  });
});

describe("graceful shutdown", () => {
  test("SIGTERM's close() leaves a session recoverable: a new service on the same store continues it", async () => {
    const store = createInMemoryStore();
    const first = await startService({ port: 0, store, engine: { runtimeUrl: sim.url, heartbeatMs: 0 } });
    const started = await request("POST", `${first.url}/sessions`, { repository: { owner: "octo", name: "slow" }, prompts: ["after the restart"] });
    const id = started.body.id as string;
    await eventually("awaiting the agent", async () => ((await request("GET", `${first.url}/sessions/${id}`)).body.state === "awaiting-agent" ? true : undefined));
    const events = connectEvents(`${first.url}/sessions/${id}/events`);
    await events.opened;
    await first.close();
    expect((await events.result).ended).toBe(true); // the stream is ended, not left hanging
    await expect(fetch(`${first.url}/sessions/${id}`)).rejects.toThrow(); // the port is closed

    const second = await startService({ port: 0, store, engine: { runtimeUrl: sim.url, heartbeatMs: 0 } });
    try {
      const sessionId = (await store.readStream(id)).events.find((event) => event.type === "reservation.succeeded")?.data;
      expect(sessionId).toBeDefined();
      expect(second.engine.get(id)?.state).toBe("awaiting-agent");
      sim.connectAgent(second.engine.get(id)?.sessionId ?? "");
      const done = await eventually("the prompt completed", async () => {
        const current = (await request("GET", `${second.url}/sessions/${id}`)).body as unknown as View;
        return current.prompts[0]?.status === "completed" ? current : undefined;
      });
      expect(sim.stats.timesReceived("after the restart", done.sessionId ?? "")).toBe(1);
    } finally {
      await second.close();
    }
  });
});
