import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore, type EventStore } from "@cloudsession/store";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startService, type RunningService } from "../src/index.js";
import { eventually, request } from "./support/http.js";
import { rawRequest } from "./support/rawHttp.js";
import { connectEvents } from "./support/sse.js";

// What a careless or hostile client sends: odd ids, odd types, odd sizes, odd Last-Event-IDs.
let sim: Simulator;
let store: EventStore;
let service: RunningService;

beforeAll(async () => {
  sim = await startSimulator({ seed: 8, timeScale: 0.01, repositories: { "octo/slow": { agentConnectLatencyMs: [600_000, 600_000] } } });
  store = createInMemoryStore();
  service = await startService({
    port: 0,
    store,
    engine: { runtimeUrl: sim.url, heartbeatMs: 0 },
    limits: { bodyBytes: 8_192 },
    // No heartbeat for an hour: an event stream's headers can only come from the service flushing them.
    timeouts: { heartbeatMs: 3_600_000, idleMs: 7_200_000 },
  });
});

afterAll(async () => {
  await service.close();
  await sim.close();
});

async function waitingSession(prompts: string[] = ["wait"]): Promise<string> {
  const id = (await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "slow" }, prompts })).body.id as string;
  await eventually("awaiting the agent", () => Promise.resolve(service.engine.get(id)?.state === "awaiting-agent" ? true : undefined));
  return id;
}

describe("path parameters", () => {
  test("NUL and other control characters in an id are 400 INVALID_REQUEST on every route, not a store error", async () => {
    for (const id of ["a%00b", "a%01b", "a%0Ab", "a%7Fb", "a%C2%85b"]) {
      for (const [method, suffix, body] of [
        ["GET", "", undefined],
        ["GET", "/events", undefined],
        ["POST", "/prompts", { prompt: "hi" }],
        ["DELETE", "", undefined],
      ] as const) {
        const response = await request(method, `${service.url}/sessions/${id}${suffix}`, body);
        expect(response.status, `${method} ${id}${suffix}`).toBe(400);
        expect(response.body).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringMatching(/params\/id/) as string });
      }
    }
  });

  test("an id is at most 200 characters: 201 is a 400, 200 an unknown session", async () => {
    expect((await request("GET", `${service.url}/sessions/${"a".repeat(201)}`)).body.code).toBe("INVALID_REQUEST");
    expect((await request("GET", `${service.url}/sessions/${"a".repeat(200)}`)).body.code).toBe("SESSION_NOT_FOUND");
  });

  test("a path that does not decode is 400 INVALID_URL; one past the router's parameter bound 414 URL_TOO_LONG", async () => {
    const bad = await rawRequest(`${service.url}/sessions/a%ZZb`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: "INVALID_URL", requestId: bad.headers["x-request-id"] });
    const long = await rawRequest(`${service.url}/sessions/${"a".repeat(3_000)}`);
    expect(long.status).toBe(414);
    expect(long.body.code).toBe("URL_TOO_LONG");
  });
});

describe("bodies", () => {
  test("prompts must be strings: no number, boolean, null, object or array is turned into one", async () => {
    const before = service.engine.sessions.length;
    const repository = { owner: "octo", name: "slow" };
    for (const prompts of [[1], [true], [null], [{ text: "hi" }], [["hi"]], "hi", 1]) {
      const response = await request("POST", `${service.url}/sessions`, { repository, prompts });
      expect(response.status, JSON.stringify(prompts)).toBe(400);
      expect(response.body.code).toBe("INVALID_REQUEST");
    }
    expect(service.engine.sessions.length).toBe(before);
    const id = await waitingSession();
    for (const prompt of [1, false, null, ["hi"], { text: "hi" }]) {
      const response = await request("POST", `${service.url}/sessions/${id}/prompts`, { prompt });
      expect(response.status, JSON.stringify(prompt)).toBe(400);
    }
    expect(service.engine.get(id)?.snapshot().context.prompts.map((prompt) => prompt.text)).toEqual(["wait"]);
  });

  test("at most 100 prompts a request; a body over the limit is 413 BODY_TOO_LARGE", async () => {
    const many = await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "slow" }, prompts: Array.from({ length: 101 }, (_, index) => `p${index}`) });
    expect(many).toMatchObject({ status: 400, body: { code: "INVALID_REQUEST" } });
    const large = await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "slow" }, prompts: ["x".repeat(9_000)] });
    expect(large).toMatchObject({ status: 413, body: { code: "BODY_TOO_LARGE" } });
  });

  test("every error answer has a stable code and the request id the x-request-id header carries", async () => {
    const cases = [
      await rawRequest(`${service.url}/sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" }),
      await rawRequest(`${service.url}/sessions`, { method: "POST", headers: { "content-type": "application/xml" }, body: "<a/>" }),
      await rawRequest(`${service.url}/nowhere`),
      await rawRequest(`${service.url}/sessions/nope`),
    ];
    expect(cases.map((response) => [response.status, response.body.code])).toEqual([
      [400, "INVALID_JSON"],
      [415, "UNSUPPORTED_MEDIA_TYPE"],
      [404, "ROUTE_NOT_FOUND"],
      [404, "SESSION_NOT_FOUND"],
    ]);
    for (const response of cases) expect(response.body.requestId).toBe(response.headers["x-request-id"]);
  });
});

describe("Last-Event-ID", () => {
  test("out of range (2^53 and above, negative, not whole) is 400 INVALID_LAST_EVENT_ID", async () => {
    const id = await waitingSession();
    for (const value of ["9007199254740992", "99999999999999999999", "-1", "1.5", "1e3", "abc"]) {
      const response = await fetch(`${service.url}/sessions/${id}/events`, { headers: { "last-event-id": value } });
      expect(response.status, value).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe("INVALID_LAST_EVENT_ID");
    }
  });

  test("a resume point past the end gets its headers at once, then the events after it as they come", async () => {
    const id = await waitingSession();
    const { version } = await store.readStream(id, { maxCount: 1 });
    const resumeAt = version + 2;
    const connection = connectEvents(`${service.url}/sessions/${id}/events`, { lastEventId: resumeAt, until: (events) => events.length > 0 });
    await connection.opened;
    // Nothing past the resume point exists yet, so nothing was written and no heartbeat is due for
    // an hour: the headers came on their own.
    expect((await store.readStream(id, { maxCount: 1 })).version).toBeLessThanOrEqual(resumeAt);
    for (const prompt of ["one", "two", "three"]) expect((await request("POST", `${service.url}/sessions/${id}/prompts`, { prompt })).status).toBe(202);
    const { events } = await connection.result;
    expect(events[0]?.id).toBe(resumeAt + 1);
  });
});
