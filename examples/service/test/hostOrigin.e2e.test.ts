import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore } from "@cloudsession/store";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isServiceError, startService, type RunningService } from "../src/index.js";
import { rawRequest } from "./support/rawHttp.js";

// DNS rebinding and cross-origin pages, as a browser would send them: the Host and Origin headers
// are set by hand (node:http), since fetch will not let a test forge Host.
let sim: Simulator;
let service: RunningService;
let corsService: RunningService;
let sessionId: string;
const secretPrompt = "confidential: the Q3 incident timeline";
const json = { "content-type": "application/json" };

beforeAll(async () => {
  sim = await startSimulator({ seed: 6, timeScale: 0.01, repositories: { "octo/slow": { agentConnectLatencyMs: [600_000, 600_000] } } });
  service = await startService({ port: 0, store: createInMemoryStore(), engine: { runtimeUrl: sim.url, heartbeatMs: 0 }, allowedHosts: ["api.example.test"] });
  corsService = await startService({ port: 0, store: createInMemoryStore(), engine: { runtimeUrl: sim.url, heartbeatMs: 0 }, allowedOrigins: ["https://app.example.test"] });
  const started = await rawRequest(`${service.url}/sessions`, { method: "POST", headers: json, body: JSON.stringify({ repository: { owner: "octo", name: "slow" }, prompts: [secretPrompt] }) });
  sessionId = started.body.id as string;
});

afterAll(async () => {
  await service.close();
  await corsService.close();
  await sim.close();
});

const port = (running: RunningService) => new URL(running.url).port;

describe("the Host allow-list (DNS rebinding)", () => {
  test("a rebound name is refused 421 HOST_NOT_ALLOWED, with none of the session in the answer", async () => {
    const rebound = await rawRequest(`${service.url}/sessions/${sessionId}`, { headers: { host: `evil.example:${port(service)}` } });
    expect(rebound.status).toBe(421);
    expect(rebound.body).toMatchObject({ code: "HOST_NOT_ALLOWED" });
    expect(rebound.text).not.toContain("confidential");
    const events = await rawRequest(`${service.url}/sessions/${sessionId}/events`, { headers: { host: `evil.example:${port(service)}` } });
    expect(events.status).toBe(421);
  });

  test("loopback names, IP literals and the configured public name are answered", async () => {
    for (const host of [`localhost:${port(service)}`, `127.0.0.1:${port(service)}`, "api.example.test", `API.example.test.:${port(service)}`]) {
      const answered = await rawRequest(`${service.url}/sessions/${sessionId}`, { headers: { host } });
      expect(answered.status, host).toBe(200);
      expect(answered.body.prompts).toEqual([expect.objectContaining({ text: secretPrompt })]);
    }
  });
});

describe("the Origin check on state-changing routes", () => {
  test("a page of another origin cannot start a session, send a prompt or close one: 403 ORIGIN_NOT_ALLOWED, nothing done", async () => {
    const before = service.engine.sessions.length;
    const origin = { ...json, origin: "https://evil.example" };
    const start = await rawRequest(`${service.url}/sessions`, { method: "POST", headers: origin, body: JSON.stringify({ repository: { owner: "octo", name: "demo" }, prompts: ["rm -rf"] }) });
    expect(start.status).toBe(403);
    expect(start.body.code).toBe("ORIGIN_NOT_ALLOWED");
    expect(service.engine.sessions.length).toBe(before);
    const send = await rawRequest(`${service.url}/sessions/${sessionId}/prompts`, { method: "POST", headers: origin, body: JSON.stringify({ prompt: "exfiltrate" }) });
    expect(send.status).toBe(403);
    const close = await rawRequest(`${service.url}/sessions/${sessionId}`, { method: "DELETE", headers: { origin: "null" } });
    expect(close.status).toBe(403);
    const prompts = service.engine.get(sessionId)?.snapshot().context.prompts.map((prompt) => prompt.text);
    expect(prompts).toEqual([secretPrompt]);
    expect(service.engine.get(sessionId)?.state).not.toBe("closed");
  });

  test("the service's own origin may; so may a request without Origin (not a browser page)", async () => {
    const own = await rawRequest(`${service.url}/sessions/${sessionId}/prompts`, { method: "POST", headers: { ...json, origin: service.url }, body: JSON.stringify({ prompt: "from our own page" }) });
    expect(own.status).toBe(202);
    const script = await rawRequest(`${service.url}/sessions/${sessionId}/prompts`, { method: "POST", headers: json, body: JSON.stringify({ prompt: "from a script" }) });
    expect(script.status).toBe(202);
  });

  test("a read from another origin is answered without CORS headers, so the browser hides it from the page", async () => {
    const read = await rawRequest(`${service.url}/sessions/${sessionId}`, { headers: { origin: "https://evil.example" } });
    expect(read.status).toBe(200);
    expect(read.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("CORS: explicit, off by default", () => {
  const preflight = (running: RunningService, origin: string) =>
    rawRequest(`${running.url}/sessions`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } });

  test("off: a preflight from any origin is refused, and no answer carries CORS headers", async () => {
    const refused = await preflight(service, "https://app.example.test");
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("ORIGIN_NOT_ALLOWED");
    expect(refused.headers["access-control-allow-origin"]).toBeUndefined();
  });

  test("on for a configured origin: the preflight passes, the answers carry its CORS headers, its pages may start sessions", async () => {
    const allowed = await preflight(corsService, "https://app.example.test");
    expect(allowed.status).toBe(204);
    expect(allowed.headers).toMatchObject({ "access-control-allow-origin": "https://app.example.test", "access-control-allow-methods": "GET, POST, DELETE", vary: "origin" });
    expect(allowed.headers["access-control-allow-headers"]).toContain("authorization");
    const started = await rawRequest(`${corsService.url}/sessions`, { method: "POST", headers: { ...json, origin: "https://app.example.test" }, body: JSON.stringify({ repository: { owner: "octo", name: "slow" }, prompts: ["hello"] }) });
    expect(started.status).toBe(202);
    expect(started.headers["access-control-allow-origin"]).toBe("https://app.example.test");
    expect(started.headers["access-control-expose-headers"]).toContain("location");
    expect((await preflight(corsService, "https://evil.example")).status).toBe(403);
  });

  test("`*` is not an origin", async () => {
    const error = await startService({ port: 0, store: createInMemoryStore(), allowedOrigins: ["*"] }).catch((reason: unknown) => reason);
    expect(isServiceError(error, "INVALID_CONFIG")).toBe(true);
  });
});
