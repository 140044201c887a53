import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore, openPostgresStore, type EventStore } from "@cloudsession/store";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isServiceError, startService, type RunningService } from "../src/index.js";
import { eventually, request } from "./support/http.js";

// Failures of the service's own parts: what the client is told (a code, a request id, no details)
// and what the log gets (the details, under the same request id). PostgreSQL where the issue saw it.
const postgresUrl = process.env.CLOUDSESSION_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `service_failures_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
const token = "tok_failures_aaaaaaaaaaaaaaaa";

let sim: Simulator;
let reachable = false;
const services: RunningService[] = [];
const stores: EventStore[] = [];

/** A service whose JSON log lines are kept. */
async function loggedService(store: EventStore, level: "info" | "warn" = "warn"): Promise<{ service: RunningService; lines: () => Record<string, unknown>[] }> {
  const written: string[] = [];
  const service = await startService({ port: 0, store, engine: { runtimeUrl: sim.url, heartbeatMs: 0 }, tokens: [token], logger: { level, stream: { write: (line) => void written.push(line) } } });
  services.push(service);
  return { service, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const auth = { authorization: `Bearer ${token}` };

beforeAll(async () => {
  sim = await startSimulator({ seed: 12, timeScale: 0.01 });
  const probe = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2_000 });
  reachable = await probe.connect().then(
    () => true,
    () => false,
  );
  await probe.end().catch(() => undefined);
  if (!reachable) console.warn(`failures.e2e: PostgreSQL at ${postgresUrl} is not reachable; its tests are skipped`);
});

afterAll(async () => {
  for (const service of services) await service.close();
  for (const store of stores) await store.close();
  await sim.close();
  if (reachable) {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
});

describe("5xx answers", () => {
  test("the store failing under a request: 503 STORE_UNAVAILABLE with a request id, the details only in the log under that id", async () => {
    const store = createInMemoryStore();
    const { service, lines } = await loggedService(store);
    await store.close(); // as a database that went away would
    const response = await request("GET", `${service.url}/sessions/some-session`, undefined, auth);
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ statusCode: 503, code: "STORE_UNAVAILABLE", error: "Service Unavailable", message: "the event store is unavailable; retry later", requestId: response.headers.get("x-request-id") });
    const logged = lines().find((line) => line.reqId === response.body.requestId);
    expect(logged).toMatchObject({ level: 50, code: "STORE_UNAVAILABLE", err: { type: "StoreError", code: "STORE_CLOSED" } });
    expect(JSON.stringify(logged)).toContain("closed");
    expect((await request("GET", `${service.url}/readyz`)).body.code).toBe("NOT_READY");
  });

  test("no line of the log carries the API token, even at info level", async () => {
    const { service, lines } = await loggedService(createInMemoryStore(), "info");
    await request("GET", `${service.url}/sessions/nope`, undefined, auth);
    await request("GET", `${service.url}/sessions/nope`, undefined, { authorization: `Bearer ${token}x` });
    expect(lines().length).toBeGreaterThanOrEqual(4); // each request's start and end
    expect(JSON.stringify(lines())).not.toContain(token);
  });
});

describe("connection strings", () => {
  test("a store that cannot be opened is named with its secrets masked, wherever they sit", async () => {
    const error = await startService({ port: 0, store: "postgres://app:PW_IN_USERINFO@127.0.0.1:1/x?sslmode=disable&password=PW_IN_QUERY" }).catch((reason: unknown) => reason);
    expect(isServiceError(error, "STORE_UNAVAILABLE")).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/^cannot open the store at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/x\?sslmode=disable&password=\*\*\*: /);
    expect(message).not.toMatch(/PW_IN_/);
  });
});

describe("on PostgreSQL", () => {
  test("NUL in a session id is a 400, never PostgreSQL's own message", async (context) => {
    if (!reachable) context.skip();
    const store = await openPostgresStore({ connectionString: postgresUrl, schema, poolSize: 2 });
    stores.push(store);
    const { service } = await loggedService(store);
    for (const method of ["GET", "DELETE"]) {
      const response = await request(method, `${service.url}/sessions/a%00b`, undefined, auth);
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).not.toMatch(/byte sequence|UTF8|0x00/);
    }
    expect((await request("POST", `${service.url}/sessions/a%00b/prompts`, { prompt: "hi" }, auth)).status).toBe(400);
  });

  test("a damaged log: GET is 500 CORRUPTED_LOG, the event stream ends with an error event carrying the code, and the log has the details", async (context) => {
    if (!reachable) context.skip();
    const store = await openPostgresStore({ connectionString: postgresUrl, schema, poolSize: 2 });
    stores.push(store);
    const { service, lines } = await loggedService(store);
    const id = (await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "demo" }, prompts: ["hello"] }, auth)).body.id as string;
    await eventually("the prompt completed", async () => ((await request("GET", `${service.url}/sessions/${id}`, undefined, auth)).body.prompts as { status: string }[] | undefined)?.[0]?.status === "completed" ? true : undefined);
    expect((await request("DELETE", `${service.url}/sessions/${id}`, undefined, auth)).status).toBe(200);

    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`UPDATE "${schema}".events SET data = '{not json' WHERE stream_id = $1 AND version = 3`, [id]);
    await admin.end();

    const shown = await request("GET", `${service.url}/sessions/${id}`, undefined, auth);
    expect(shown.status).toBe(500);
    expect(shown.body).toMatchObject({ code: "CORRUPTED_LOG", message: "the session's stored log is damaged; the service does not act on it" });
    expect(JSON.stringify(shown.body)).not.toContain("not valid JSON");
    // The engine names the session and the damage; the store's own error is its cause.
    const logged = lines().find((line) => line.reqId === shown.body.requestId);
    expect(logged).toMatchObject({ level: 50, code: "CORRUPTED_LOG", err: { type: "EngineError", code: "CORRUPTED_LOG", message: expect.stringContaining(id) as string } });
    expect(JSON.stringify(logged?.err)).toContain("CORRUPTED_EVENT");

    const events = await fetch(`${service.url}/sessions/${id}/events`, { headers: auth });
    expect(events.status).toBe(200);
    const text = await events.text(); // the server ends it
    expect(text).toBe(`event: error\ndata: ${JSON.stringify({ code: "CORRUPTED_LOG", message: "the session's stored log is damaged; the service does not act on it" })}\n\n`);
    const streamRequestId = events.headers.get("x-request-id");
    expect(lines().find((line) => line.reqId === streamRequestId)).toMatchObject({ level: 50, err: { code: "CORRUPTED_EVENT" } });
  });
});
