import { resolveSettings } from "@cloudsession/machine";
import { createInMemoryStore } from "@cloudsession/store";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDashboard, serveDashboard, type DiagramModel, type ServedDashboard, type SessionDetail, type SessionSummary } from "../src/index.js";
import { call, openFeed, postJson } from "./support/http.js";
import { appendLog } from "./support/logs.js";

const store = createInMemoryStore();
let served: ServedDashboard;

beforeAll(async () => {
  await appendLog(store, "s-blocked", [
    { type: "session.requested", repository: { owner: "demo", name: "blocked-org" }, settings: resolveSettings(), at: 1_000 },
    { type: "prompt.submitted", promptId: "p1", text: "Fix the flaky test", at: 1_001 },
    { type: "reservation.failed", failure: "policy_blocked", message: "policy_blocked: not allowed by organization policy", at: 1_200 },
  ], true);
  served = await serveDashboard({ store });
});

afterAll(async () => {
  await served.close();
  await store.close();
});

describe("the dashboard's HTTP surface (no engine: it shows, it does not act)", () => {
  test("the page: relative asset URLs and a policy that allows its own origin only", async () => {
    const page = await call(served.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'.*script-src 'self'.*connect-src 'self'/);
    expect(page.text).toContain('src="assets/app.js"');
    expect(page.text).not.toMatch(/https?:\/\//);
    const script = await call(`${served.url}assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect(script.text.length).toBeGreaterThan(1000);
    // Bundled: no import of anything, from anywhere.
    expect(script.text).not.toMatch(/\bimport\s*[("{*]|from\s*"/);
    const again = await call(`${served.url}assets/app.js`, { headers: { "if-none-match": script.headers.get("etag")! } });
    expect(again.status).toBe(304);
    expect((await call(`${served.url}assets/app.css`)).headers.get("content-type")).toMatch(/text\/css/);
  });

  test("the list, one session, the machine's diagram", async () => {
    const list = (await call(`${served.url}api/sessions`)).body as { sessions: SessionSummary[] };
    expect(list.sessions).toEqual([expect.objectContaining({ id: "s-blocked", state: "blocked", running: false, prompts: { delivered: 0, queued: 0, undelivered: 1 } })]);
    const detail = (await call(`${served.url}api/sessions/s-blocked`)).body as SessionDetail;
    expect(detail.summary.failure).toEqual({ phase: "reserving", reason: "policy_blocked", message: "policy_blocked: not allowed by organization policy" });
    expect(detail.replay.map((step) => [step.state, step.edge])).toEqual([["reserving.attempting", null], ["reserving.attempting", null], ["blocked", "reserving.attempting->blocked"]]);
    expect(detail.prompts).toEqual([expect.objectContaining({ text: "Fix the flaky test", status: "undelivered", reason: "session-blocked" })]);
    const diagram = (await call(`${served.url}api/machine`)).body as DiagramModel;
    expect(diagram.nodes.map((node) => node.id)).toContain("reserving.backing-off");
    expect((await call(`${served.url}api/sessions/nope`)).status).toBe(404);
  });

  test("the live feed starts with the whole list, then sends what changed", async () => {
    const feed = await openFeed(`${served.url}api/feed`);
    const snapshot = (await feed.next()) as { kind: string; sessions: SessionSummary[] };
    await appendLog(store, "s-new", [{ type: "session.requested", repository: { owner: "octo", name: "new" }, settings: resolveSettings(), at: 2_000 }]);
    const changes = await feed.next();
    feed.close();
    expect(snapshot).toMatchObject({ kind: "snapshot", complete: true });
    expect(snapshot.sessions.map((session) => session.id)).toEqual(["s-blocked"]);
    expect(changes).toMatchObject({ kind: "changes", sessions: [{ id: "s-new", state: "reserving" }] });
  });

  test("actions: refused without an engine, from another site, or without JSON", async () => {
    const url = `${served.url}api/sessions/s-blocked/prompts`;
    expect(await postJson(url, { text: "hi" })).toMatchObject({ status: 409, body: { code: "SESSION_NOT_RUNNING" } });
    expect(await postJson(url, { text: "hi" }, { origin: "https://evil.example" })).toMatchObject({ status: 403, body: { code: "FORBIDDEN" } });
    expect(await postJson(url, { text: "hi" }, { "sec-fetch-site": "cross-site" })).toMatchObject({ status: 403, body: { code: "FORBIDDEN" } });
    expect(await call(url, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" })).toMatchObject({ status: 415, body: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    expect(await call(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{" })).toMatchObject({ status: 400, body: { code: "INVALID_REQUEST" } });
  });

  test("answers only to loopback names (DNS rebinding)", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request(served.url, { headers: { host: `attacker.example:${served.port}` } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      outgoing.on("error", reject);
      outgoing.end();
    });
    expect(status).toBe(403);
    expect((await call(`http://localhost:${served.port}/api/sessions`)).status).toBe(200);
  });
});

describe("mounted under a path, as the example service does", () => {
  let server: Server;
  let base: string;
  const dashboard = createDashboard({ store });

  beforeAll(async () => {
    server = createServer((request, response) => {
      const path = new URL(request.url ?? "/", "http://x").pathname;
      if (path === "/dashboard" || path.startsWith("/dashboard/")) dashboard.handle(request, response, path.slice("/dashboard".length));
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await dashboard.close();
    await new Promise((resolve) => server.close(resolve));
  });

  test("the mount point redirects to its slash; the page and the API work below it", async () => {
    const redirect = await call(`${base}/dashboard?x=1`);
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("/dashboard/?x=1");
    expect((await call(`${base}/dashboard/`)).text).toContain("assets/app.js");
    expect((await call(`${base}/dashboard/api/sessions`)).status).toBe(200);
    expect((await call(`${base}/dashboard/nothing`)).status).toBe(404);
  });
});
