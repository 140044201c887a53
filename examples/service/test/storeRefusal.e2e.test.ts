import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { openPostgresStore } from "@cloudsession/store";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually, request, type JsonResponse } from "./support/http.js";
import { adminQuery, dropSchema, postgresReachable, postgresUrl, uniqueSchema } from "./support/postgres.js";
import { spawnService, type ServiceProcess } from "./support/serviceProcess.js";
import { submittedPrompts } from "./support/sessionLog.js";

// A store that refuses writes, under the service as a child process: the schema's events table gets
// a trigger that raises on every write (the database is up, reads work, appends fail), then loses it.
const schema = uniqueSchema("service_store_refusal");

let sim: Simulator;
let reachable = false;
let service: ServiceProcess | undefined;

beforeAll(async () => {
  reachable = await postgresReachable();
  if (!reachable) console.warn(`storeRefusal.e2e: PostgreSQL at ${postgresUrl} is not reachable; the test is skipped`);
  sim = await startSimulator({ seed: 22, timeScale: 0.01, repositories: { "octo/waiting": { agentNeverConnects: true } } });
});

afterAll(async () => {
  if (service && service.child.exitCode === null && service.child.signalCode === null) service.child.kill("SIGKILL");
  await sim.close();
  if (reachable) await dropSchema(schema);
});

async function refuseWrites(): Promise<void> {
  await adminQuery(`CREATE FUNCTION "${schema}".refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'events are read-only in this test'; END $$`);
  await adminQuery(`CREATE TRIGGER refuse_writes BEFORE INSERT OR UPDATE OR DELETE ON "${schema}".events FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".refuse_writes()`);
}

async function rowCounts(): Promise<{ streams: number; events: number }> {
  const { rows } = await adminQuery(`SELECT (SELECT count(*) FROM "${schema}".streams)::int AS streams, (SELECT count(*) FROM "${schema}".events)::int AS events`);
  return rows[0] as { streams: number; events: number };
}

function expectUnavailable(answer: JsonResponse): void {
  expect(answer.status).toBe(503);
  expect(answer.body).toMatchObject({ code: "STORE_UNAVAILABLE", message: "the event store is unavailable; retry later" });
  expect(JSON.stringify(answer.body)).not.toContain("read-only"); // the database's words stay in the service's log
  expect(answer.headers.get("retry-after")).toBe("1"); // the engine's retryAfterMs (500), in whole seconds
}

test("appends refused: 503 STORE_UNAVAILABLE with Retry-After for a prompt and for a start, nothing written; once the store takes writes, a retry under the same id is recorded once", { timeout: 180_000 }, async (context) => {
  if (!reachable) context.skip();
  service = await spawnService({ DATABASE_URL: postgresUrl, CLOUDSESSION_DB_SCHEMA: schema, COPILOT_RUNTIME_URL: sim.url, CLOUDSESSION_AGENT_START_TIMEOUT_MS: "600000", LOG_LEVEL: "warn" });
  const { url } = service;
  const repository = { owner: "octo", name: "waiting" };
  const id = (await request("POST", `${url}/sessions`, { repository, prompts: ["wait"] })).body.id as string;
  await eventually("awaiting the agent", async () => ((await request("GET", `${url}/sessions/${id}`)).body.state === "awaiting-agent" ? true : undefined));
  expect((await request("POST", `${url}/sessions/${id}/prompts`, { prompt: "before", id: "before" })).status).toBe(202);

  await refuseWrites();
  const before = await rowCounts();
  expectUnavailable(await request("POST", `${url}/sessions/${id}/prompts`, { prompt: "during", id: "retry-me" }));
  expectUnavailable(await request("POST", `${url}/sessions`, { repository, prompts: ["never started"] }));
  expect(await rowCounts()).toEqual(before);

  await adminQuery(`DROP TRIGGER refuse_writes ON "${schema}".events`);
  // The client retries as told, under the same id, until the service has continued the session from its log.
  const accepted = await eventually("the retry accepted", async () => {
    const answer = await request("POST", `${url}/sessions/${id}/prompts`, { prompt: "during", id: "retry-me" });
    if (answer.status === 503) return undefined;
    return answer;
  });
  expect(accepted.status).toBe(202);
  expect((await request("POST", `${url}/sessions/${id}/prompts`, { prompt: "during", id: "retry-me" })).status).toBe(202);
  expect((await request("POST", `${url}/sessions`, { repository, prompts: ["started now"] })).status).toBe(202);

  const store = await openPostgresStore({ connectionString: postgresUrl, schema, poolSize: 1 });
  try {
    expect((await submittedPrompts(store, id)).map((prompt) => prompt.text)).toEqual(["wait", "before", "during"]);
    const started = await store.listStreams();
    expect(started.length).toBe(2); // "never started" left nothing behind
  } finally {
    await store.close();
  }
  expect(service.output()).toContain("events are read-only in this test"); // the details went to the service's own output

  service.child.kill("SIGTERM");
  expect((await service.exited).code).toBe(0);
});
