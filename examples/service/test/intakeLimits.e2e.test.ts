import type { EngineOptions } from "@cloudsession/engine";
import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore, type EventStore } from "@cloudsession/store";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isServiceError, startService, type RunningService } from "../src/index.js";
import { eventually, request, type JsonResponse } from "./support/http.js";
import { storedEventCount, submittedPrompts } from "./support/sessionLog.js";

// The engine's intake limits, each at, just below and just above its value, over real HTTP: the
// refusal's status, code and Retry-After, and that a refused request wrote nothing at all.
let sim: Simulator;
const services: RunningService[] = [];

/** A service on its own in-memory store (kept, to look at what was written), with these engine options. */
async function serve(engine: Omit<EngineOptions, "store" | "runtimeUrl">): Promise<{ service: RunningService; store: EventStore }> {
  const store = createInMemoryStore();
  const service = await startService({ port: 0, store, engine: { runtimeUrl: sim.url, heartbeatMs: 0, ...engine } });
  services.push(service);
  return { service, store };
}

beforeAll(async () => {
  // "octo/waiting": the agent never connects, so nothing queued is ever delivered (or dequeued).
  sim = await startSimulator({ seed: 21, timeScale: 0.01, repositories: { "octo/waiting": { agentNeverConnects: true } } });
});

afterAll(async () => {
  for (const service of services) await service.close();
  await sim.close();
});

const waiting = { owner: "octo", name: "waiting" };

async function startWaiting(service: RunningService, prompts: string[]): Promise<JsonResponse> {
  return request("POST", `${service.url}/sessions`, { repository: waiting, prompts });
}

async function awaitingAgent(service: RunningService, id: string): Promise<void> {
  await eventually(`${id} awaiting the agent`, async () => ((await request("GET", `${service.url}/sessions/${id}`)).body.state === "awaiting-agent" ? true : undefined));
}

function send(service: RunningService, id: string, prompt: string, promptId?: string): Promise<JsonResponse> {
  return request("POST", `${service.url}/sessions/${id}/prompts`, { prompt, ...(promptId === undefined ? {} : { id: promptId }) });
}

describe("a prompt's size (limits.maxPromptBytes), in UTF-8 bytes", () => {
  test("1,000 bytes: at the limit 202, a byte over 413 PROMPT_TOO_LARGE, whatever the characters; a refused start writes none of its prompts", async () => {
    const { service, store } = await serve({ limits: { maxPromptBytes: 1_000 } });
    const twoByte = "é".repeat(500); // 500 characters, 1,000 bytes
    const threeByte = "€".repeat(333); // 999 bytes
    const fourByte = "😀".repeat(250); // 500 UTF-16 units, 1,000 bytes

    const before = await storedEventCount(store);
    const refusedStart = await startWaiting(service, ["fine", `${twoByte}a`]);
    expect(refusedStart.status).toBe(413);
    expect(refusedStart.body).toMatchObject({ code: "PROMPT_TOO_LARGE", message: expect.stringContaining("1001 bytes") as string });
    expect(await storedEventCount(store)).toBe(before);

    const started = await startWaiting(service, [twoByte]); // at the limit
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    const answers = [
      await send(service, id, threeByte), // a byte below
      await send(service, id, `${threeByte}a`), // at
      await send(service, id, `${threeByte}ab`), // a byte above
      await send(service, id, fourByte), // at, in surrogate pairs
      await send(service, id, `${fourByte}a`), // above
      await send(service, id, "€".repeat(334)), // 334 characters, far below 1,000, but 1,002 bytes
    ];
    expect(answers.map((answer) => [answer.status, answer.body.code])).toEqual([
      [202, undefined],
      [202, undefined],
      [413, "PROMPT_TOO_LARGE"],
      [202, undefined],
      [413, "PROMPT_TOO_LARGE"],
      [413, "PROMPT_TOO_LARGE"],
    ]);
    expect((await submittedPrompts(store, id)).map((prompt) => Buffer.byteLength(prompt.text))).toEqual([1_000, 999, 1_000, 1_000]);
  });

  test("a prompt limit at or above the body limit is refused at start: such a prompt could not arrive", async () => {
    const error = await startService({ port: 0, store: createInMemoryStore(), limits: { bodyBytes: 4_096 }, engine: { runtimeUrl: sim.url, limits: { maxPromptBytes: 4_096 } } }).catch((reason: unknown) => reason);
    expect(isServiceError(error, "INVALID_CONFIG")).toBe(true);
  });
});

describe("queued prompts per session (limits.maxQueuedPrompts)", () => {
  test("5: a start with 6 prompts is 429 QUEUE_FULL and writes none; with 4 then one more, 202; the sixth 429 with Retry-After", async () => {
    const { service, store } = await serve({ limits: { maxQueuedPrompts: 5 } });
    const before = await storedEventCount(store);
    const refused = await startWaiting(service, ["1", "2", "3", "4", "5", "6"]);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("QUEUE_FULL");
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await storedEventCount(store)).toBe(before); // nothing half-written: no session, no prompt

    expect((await startWaiting(service, ["1", "2", "3", "4", "5"])).status).toBe(202); // a start at the limit
    const started = await startWaiting(service, ["1", "2", "3", "4"]); // one below
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    await awaitingAgent(service, id);
    expect((await send(service, id, "5")).status).toBe(202); // at the limit now
    const full = await send(service, id, "6");
    expect(full.status).toBe(429);
    expect(full.body).toMatchObject({ code: "QUEUE_FULL", message: expect.stringContaining("5 prompts queued") as string });
    expect(full.headers.get("retry-after")).toBe("1");
    expect((await submittedPrompts(store, id)).map((prompt) => prompt.text)).toEqual(["1", "2", "3", "4", "5"]);
  });

  test("a retry under an id the log already has is answered 202 even when the queue is full: it adds nothing", async () => {
    const { service, store } = await serve({ limits: { maxQueuedPrompts: 2 } });
    const id = (await startWaiting(service, ["1"])).body.id as string;
    expect((await send(service, id, "2", "client-2")).status).toBe(202);
    expect((await send(service, id, "3", "client-3")).status).toBe(429);
    const retried = await send(service, id, "2", "client-2");
    expect(retried.status).toBe(202);
    expect(retried.body.id).toBe("client-2");
    expect((await submittedPrompts(store, id)).map((prompt) => prompt.text)).toEqual(["1", "2"]);
  });
});

describe("sessions waiting for a runtime slot (limits.maxWaitingSessions)", () => {
  test("1 slot, 2 may wait: the holder and two waiting are 202; the next is 429 ENGINE_BUSY with Retry-After and writes nothing; a freed slot lets one more in", async () => {
    const { service, store } = await serve({ maxConcurrent: 1, limits: { maxWaitingSessions: 2 } });
    const holder = (await startWaiting(service, ["a"])).body.id as string;
    await awaitingAgent(service, holder); // it holds the only slot, and keeps it: its agent never connects
    const below = await startWaiting(service, ["b"]); // 1 waiting
    const at = await startWaiting(service, ["c"]); // 2 waiting
    expect([below.status, at.status]).toEqual([202, 202]);

    const before = await storedEventCount(store);
    const busy = await startWaiting(service, ["d"]);
    expect(busy.status).toBe(429);
    expect(busy.body.code).toBe("ENGINE_BUSY");
    expect(busy.headers.get("retry-after")).toBe("5");
    expect(await storedEventCount(store)).toBe(before);
    expect(service.engine.sessions.length).toBe(3);

    // The holder ends: the first in line takes its slot, and the line has room for one more.
    expect((await request("DELETE", `${service.url}/sessions/${holder}`)).body.state).toBe("closed");
    await awaitingAgent(service, below.body.id as string);
    expect((await startWaiting(service, ["e"])).status).toBe(202);
    expect((await startWaiting(service, ["f"])).body.code).toBe("ENGINE_BUSY");
  });
});

describe("a client's own prompt id (POST /sessions/:id/prompts { id })", () => {
  test("a retried POST with the same id adds one prompt, also when the retries race each other", async () => {
    const { service, store } = await serve({});
    const id = (await startWaiting(service, ["first"])).body.id as string;
    const once = await send(service, id, "retried", "order-7");
    const again = await send(service, id, "retried", "order-7");
    expect([once.status, again.status]).toEqual([202, 202]);
    expect(again.body).toEqual(once.body);
    expect(once.body).toEqual({ id: "order-7", session: id });

    const racing = await Promise.all(Array.from({ length: 10 }, () => send(service, id, "raced", "order-8")));
    expect(racing.map((answer) => answer.status)).toEqual(Array.from({ length: 10 }, () => 202));
    expect(await submittedPrompts(store, id)).toEqual([
      { promptId: expect.any(String) as string, text: "first" },
      { promptId: "order-7", text: "retried" },
      { promptId: "order-8", text: "raced" },
    ]);
  });

  test("the same id with another text is 409 PROMPT_ID_REUSED and adds nothing", async () => {
    const { service, store } = await serve({});
    const id = (await startWaiting(service, ["first"])).body.id as string;
    expect((await send(service, id, "one text", "mine")).status).toBe(202);
    const reused = await send(service, id, "another text", "mine");
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe("PROMPT_ID_REUSED");
    expect((await submittedPrompts(store, id)).map((prompt) => prompt.text)).toEqual(["first", "one text"]);
  });

  test("an id is not blank, has no control characters and at most 200 characters: else 400 INVALID_REQUEST", async () => {
    const { service, store } = await serve({});
    const id = (await startWaiting(service, ["first"])).body.id as string;
    for (const bad of ["", "   ", "a\u0000b", "a\nb", "tab\there", "a\u007fb", "a\u0085b", "x".repeat(201), 7, null]) {
      const answer = await request("POST", `${service.url}/sessions/${id}/prompts`, { prompt: "hi", id: bad });
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(answer.body.code).toBe("INVALID_REQUEST");
    }
    expect((await send(service, id, "at the bound", "x".repeat(200))).status).toBe(202);
    expect((await send(service, id, "spaces inside", " a b ")).status).toBe(202);
    expect((await submittedPrompts(store, id)).map((prompt) => prompt.promptId).slice(1)).toEqual(["x".repeat(200), " a b "]);
  });
});
