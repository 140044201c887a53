import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore } from "@cloudsession/store";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startService, type RunningService } from "../src/index.js";
import { eventually, request } from "./support/http.js";
import { openConnection, type RawConnection } from "./support/rawHttp.js";

// Timeouts and caps, attacked over real sockets: a body sent a byte at a time, connections that
// send nothing, too many connections, too many event streams. Each attack first, then the refusal.
let sim: Simulator;
const services: RunningService[] = [];

async function serve(options: Omit<Parameters<typeof startService>[0], "store">): Promise<RunningService> {
  const service = await startService({ port: 0, store: createInMemoryStore(), engine: { runtimeUrl: sim.url, heartbeatMs: 0 }, ...options });
  services.push(service);
  return service;
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, timeScale: 0.01, repositories: { "octo/slow": { agentConnectLatencyMs: [600_000, 600_000] } } });
});

afterAll(async () => {
  for (const service of services) await service.close();
  await sim.close();
});

/** The status line and JSON body of what the server wrote before it closed. */
function answer(connection: RawConnection): { status: number; body: Record<string, unknown> } {
  const text = connection.received();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  return { status, body: body === "" ? {} : (JSON.parse(body) as Record<string, unknown>) };
}

describe("timeouts", () => {
  test("a body sent a byte at a time is cut at the request timeout: 408 REQUEST_TIMEOUT, connection closed", async () => {
    const service = await serve({ timeouts: { headersMs: 500, requestMs: 1_000 } });
    const connection = await openConnection(service.url);
    connection.socket.write("POST /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{");
    const drip = setInterval(() => connection.socket.write(" "), 100); // never stops on its own
    await connection.closed;
    clearInterval(drip);
    expect(answer(connection)).toEqual({ status: 408, body: { statusCode: 408, code: "REQUEST_TIMEOUT", error: "Request Timeout", message: "the request did not arrive in time" } });
  });

  test("headers sent a line at a time, and a connection that sends nothing, are cut at the headers timeout", async () => {
    const service = await serve({ timeouts: { headersMs: 500, requestMs: 1_000 } });
    const slowHeaders = await openConnection(service.url);
    slowHeaders.socket.write("GET /healthz HTTP/1.1\r\n");
    const drip = setInterval(() => slowHeaders.socket.write("x-padding: 1\r\n"), 100);
    const silent = await openConnection(service.url);
    await Promise.all([slowHeaders.closed, silent.closed]);
    clearInterval(drip);
    expect(answer(slowHeaders).body.code).toBe("REQUEST_TIMEOUT");
    expect(answer(silent).body.code).toBe("REQUEST_TIMEOUT");
  });

  test("an idle keep-alive connection is closed after the keep-alive timeout", async () => {
    const service = await serve({ timeouts: { keepAliveMs: 300 } });
    const connection = await openConnection(service.url);
    connection.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n");
    await connection.closed;
    expect(connection.received()).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe("caps", () => {
  test("connections over the cap are dropped at once; once some close, the service answers again", async () => {
    const service = await serve({ limits: { connections: 4 } });
    const held = await Promise.all(Array.from({ length: 4 }, () => openConnection(service.url)));
    const extra = await openConnection(service.url);
    await extra.closed; // dropped by the server, with no answer
    expect(extra.received()).toBe("");
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
    for (const connection of held) connection.socket.destroy();
    const healthy = await eventually("a free connection", async () => ((await fetch(`${service.url}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined));
    expect(healthy).toBe(true);
  });

  test("event streams are capped per client (429) and in all (503), with Retry-After; a closed stream frees its slot", async () => {
    // Behind a proxy: X-Forwarded-For names the client.
    const service = await serve({ limits: { eventStreams: 3, eventStreamsPerClient: 2 }, trustProxy: true });
    const id = (await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "slow" }, prompts: ["wait"] })).body.id as string;
    const streams: Response[] = [];
    const open = (client: string) => fetch(`${service.url}/sessions/${id}/events`, { headers: { "x-forwarded-for": client } });
    for (let index = 0; index < 2; index++) streams.push(await open("203.0.113.1"));
    expect(streams.map((response) => response.status)).toEqual([200, 200]);

    const third = await open("203.0.113.1");
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("5");
    expect(((await third.json()) as { code: string }).code).toBe("TOO_MANY_EVENT_STREAMS");

    streams.push(await open("203.0.113.2"));
    expect(streams[2]?.status).toBe(200);
    const full = await open("203.0.113.3");
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("5");
    expect(((await full.json()) as { code: string }).code).toBe("EVENT_STREAMS_FULL");

    await streams[0]?.body?.cancel();
    const later = await eventually("a freed slot", async () => {
      const response = await open("203.0.113.3");
      if (response.status === 200) return response;
      await response.body?.cancel();
      return undefined;
    });
    await later.body?.cancel();
    for (const response of streams.slice(1)) await response.body?.cancel();
  });

  test("an open event stream writes heartbeats while nothing happens", async () => {
    const service = await serve({ timeouts: { heartbeatMs: 50 } });
    const id = (await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "slow" }, prompts: ["wait"] })).body.id as string;
    const response = await fetch(`${service.url}/sessions/${id}/events`);
    const reader = response.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const decoder = new TextDecoder();
    let text = "";
    while (text.split(": keep-alive\n\n").length < 3) text += decoder.decode((await reader.read()).value, { stream: true });
    await reader.cancel();
    expect(text).toContain("event: session.requested");
  });
});
