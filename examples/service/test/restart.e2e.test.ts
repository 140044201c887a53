import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually, request } from "./support/http.js";
import { spawnService, type ServiceProcess } from "./support/serviceProcess.js";
import { readEvents } from "./support/sse.js";

let sim: Simulator;
let dataDir: string;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  // Slow chunks: a turn takes a couple of seconds, so the kill lands in the middle of one.
  sim = await startSimulator({
    seed: 11,
    timeScale: 0.01,
    defaults: { chunkLatencyMs: [25_000, 25_000], chunkSizeChars: [4, 6], reply: { "*": "A reply long enough to take a while to stream." } },
  });
  dataDir = mkdtempSync(join(tmpdir(), "cloudsession-service-"));
});

afterAll(async () => {
  for (const service of running) if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill("SIGKILL");
  await sim.close();
  rmSync(dataDir, { recursive: true, force: true });
});

type View = { state: string; sessionId: string | null; prompts: { text: string; status: string }[] };

test("killed mid-session (SIGKILL) and restarted on the same store, the session continues and every prompt reaches the worker once", { timeout: 300_000 }, async () => {
  const env = { CLOUDSESSION_DATA_DIR: dataDir, COPILOT_RUNTIME_URL: sim.url };
  const first = await spawnService(env);
  running.push(first);
  const started = await request("POST", `${first.url}/sessions`, { repository: { owner: "octo", name: "demo" }, prompts: ["first prompt", "second prompt"] });
  expect(started.status).toBe(202);
  const id = started.body.id as string;

  // Mid-turn: the first prompt has reached the worker and its answer is streaming.
  const midTurn = await eventually("the first turn streaming", async () => {
    const current = (await request("GET", `${first.url}/sessions/${id}`)).body as unknown as View;
    return current.state === "streaming" && current.prompts[0]?.status === "sent" ? current : undefined;
  });
  first.child.kill("SIGKILL");
  expect((await first.exited).signal).toBe("SIGKILL");
  const sessionId = midTurn.sessionId ?? "";
  expect(sim.stats.sessions.get(sessionId)?.turnsCompleted ?? 0).toBe(0);

  const second = await spawnService(env);
  running.push(second);
  expect((await request("POST", `${second.url}/sessions/${id}/prompts`, { prompt: "third prompt" })).status).toBe(202);
  const done = await eventually(
    "all three prompts completed",
    async () => {
      const current = (await request("GET", `${second.url}/sessions/${id}`)).body as unknown as View;
      return current.prompts.length === 3 && current.prompts.every((prompt) => prompt.status === "completed") ? current : undefined;
    },
    60_000,
  );
  expect(done.sessionId).toBe(sessionId);
  for (const prompt of ["first prompt", "second prompt", "third prompt"]) expect(sim.stats.timesReceived(prompt, sessionId)).toBe(1);
  expect(sim.stats.sessions.get(sessionId)?.resumes).toBe(1);

  // The log the new process serves is whole: versions 1..n, no gap, no repeat, the resume recorded.
  const replayed = await readEvents(`${second.url}/sessions/${id}/events`, { until: (events) => events.filter((event) => event.event === "turn.idle").length === 3 });
  expect(replayed.events.map((event) => event.id)).toEqual(replayed.events.map((_, index) => index + 1));
  expect(replayed.events.some((event) => event.event === "session.resumed")).toBe(true);

  // SIGTERM: a graceful exit, and the session is still open in the store for the next process.
  second.child.kill("SIGTERM");
  expect(await second.exited).toEqual({ code: 0, signal: null });
  expect(second.output()).toContain("SIGTERM: shutting down");
  const third = await spawnService(env);
  running.push(third);
  expect(((await request("GET", `${third.url}/sessions/${id}`)).body as unknown as View).state).toBe("ready");
  expect((await request("DELETE", `${third.url}/sessions/${id}`)).body.state).toBe("closed");
  third.child.kill("SIGTERM");
  expect((await third.exited).code).toBe(0);
});
