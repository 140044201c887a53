import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { createInMemoryStore } from "@cloudsession/store";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isServiceError, startService, type RunningService } from "../src/index.js";
import { eventually, request } from "./support/http.js";
import { spawnService } from "./support/serviceProcess.js";

// The authentication matrix, over real HTTP: loopback without tokens, loopback with tokens (none,
// wrong, right, the rotated one), health and readiness open, and no start beyond loopback without.
const tokenA = "tok_live_aaaaaaaaaaaaaaaaaaaa";
const tokenB = "tok_next_bbbbbbbbbbbbbbbbbbbb";
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let sim: Simulator;
let open: RunningService;
let guarded: RunningService;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, timeScale: 0.01 });
  open = await startService({ port: 0, store: createInMemoryStore(), engine: { runtimeUrl: sim.url, heartbeatMs: 0 } });
  guarded = await startService({ port: 0, store: createInMemoryStore(), engine: { runtimeUrl: sim.url, heartbeatMs: 0 }, tokens: [tokenA, tokenB] });
});

afterAll(async () => {
  await open.close();
  await guarded.close();
  await sim.close();
});

const startBody = { repository: { owner: "octo", name: "demo" }, prompts: ["Summarise the README"] };

describe("authentication", () => {
  test("on loopback without tokens, no token is needed", async () => {
    const started = await request("POST", `${open.url}/sessions`, startBody);
    expect(started.status).toBe(202);
    expect((await request("GET", `${open.url}/sessions/${started.body.id as string}`)).status).toBe(200);
  });

  test("with tokens, a request without one is 401 UNAUTHORIZED with a Bearer challenge, and nothing happens", async () => {
    const before = guarded.engine.sessions.length;
    const refused = await request("POST", `${guarded.url}/sessions`, startBody);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: "UNAUTHORIZED", statusCode: 401 });
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="cloudsession"');
    expect(guarded.engine.sessions.length).toBe(before);
    for (const [method, path] of [
      ["GET", "/sessions/nope"],
      ["GET", "/sessions/nope/events"],
      ["POST", "/sessions/nope/prompts"],
      ["DELETE", "/sessions/nope"],
      ["GET", "/no/such/route"],
    ] as const) {
      const response = await request(method, `${guarded.url}${path}`, method === "POST" ? { prompt: "hi" } : undefined);
      expect(response.status, `${method} ${path}`).toBe(401);
    }
  });

  test("a wrong token is 401 with error=invalid_token: one character off, a prefix, another scheme", async () => {
    for (const authorization of [`Bearer ${tokenA.slice(0, -1)}X`, `Bearer ${tokenA.slice(0, -1)}`, `Bearer ${tokenA}${tokenA}`, `Basic ${tokenA}`, `Bearer`]) {
      const response = await request("GET", `${guarded.url}/sessions/nope`, undefined, { authorization });
      expect(response.status, authorization).toBe(401);
      expect(response.body.code).toBe("UNAUTHORIZED");
    }
    const wrong = await request("GET", `${guarded.url}/sessions/nope`, undefined, bearer("tok_wrong_cccccccccccccccccc"));
    expect(wrong.headers.get("www-authenticate")).toBe('Bearer realm="cloudsession", error="invalid_token"');
  });

  test("either configured token works (rotation): a session started with one is followed with the other", async () => {
    const started = await request("POST", `${guarded.url}/sessions`, startBody, bearer(tokenA));
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    const done = await eventually("the prompt completed", async () => {
      const current = await request("GET", `${guarded.url}/sessions/${id}`, undefined, bearer(tokenB));
      return (current.body.prompts as { status: string }[] | undefined)?.[0]?.status === "completed" ? current : undefined;
    });
    expect(done.status).toBe(200);
    const events = await fetch(`${guarded.url}/sessions/${id}/events`, { headers: bearer(tokenB) });
    expect(events.status).toBe(200);
    await events.body?.cancel();
    expect((await request("DELETE", `${guarded.url}/sessions/${id}`, undefined, bearer(tokenA))).status).toBe(200);
  });

  test("health and readiness stay open", async () => {
    expect(await request("GET", `${guarded.url}/healthz`)).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await request("GET", `${guarded.url}/readyz`)).toMatchObject({ status: 200, body: { status: "ready" } });
  });

  test("beyond loopback without a token, startService refuses to start (before it opens anything)", async () => {
    for (const host of ["0.0.0.0", "::", "192.0.2.10"]) {
      const error = await startService({ host, port: 0, store: "postgres://u@127.0.0.1:1/never-opened" }).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isServiceError(error, "AUTH_REQUIRED"), host).toBe(true);
      expect((error as Error).message).toMatch(/CLOUDSESSION_API_TOKENS/);
    }
    const short = await startService({ port: 0, store: createInMemoryStore(), tokens: ["short"] }).catch((reason: unknown) => reason);
    expect(isServiceError(short, "INVALID_CONFIG")).toBe(true);
  });

  test("HOST=0.0.0.0 without a token: the process says why and exits 1", { timeout: 120_000 }, async () => {
    const failure = await spawnService({ HOST: "0.0.0.0", CLOUDSESSION_DATA_DIR: "/nonexistent/never-created", COPILOT_RUNTIME_URL: sim.url }).then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    expect(failure?.message).toContain("cannot start: binding 0.0.0.0 puts the API on the network, and it has no API token");
  });
});
