import { afterAll, describe, expect, test } from "vitest";
import { interruptedOnSimulatorReason } from "../src/interrupt.js";
import { parseNdjson, runCli, startCli, tempDir } from "./support/cli.js";

// One embedded (PGlite) store for the file; its tests run one after another.
const store = tempDir("cloudsession-close-");
afterAll(() => store.remove());

const awaitingAgent = /"state":"awaiting-agent"/;
const sessionOf = (ndjson: string): string => String(parseNdjson(ndjson).find((record) => record["type"] === "session")?.["session"]);

async function openSessions(): Promise<Record<string, unknown>[]> {
  const ls = await runCli(["ls", "--open", "--json", "--store", store.path]);
  expect(ls.code).toBe(0);
  return parseNdjson(ls.stdout);
}

async function detail(id: string): Promise<Record<string, unknown>> {
  const show = await runCli(["show", id, "--json", "--store", store.path]);
  expect(show.code).toBe(0);
  return parseNdjson(show.stdout)[0] ?? {};
}

describe("sessions that can never continue are not left open", () => {
  test("Ctrl-C on the bundled simulator closes the session, with the reason in its log, and exits 130", async () => {
    const run = startCli(["run", "--json", "--store", store.path, "--repo", "demo/never-connects", "hello"]);
    await run.waitFor(awaitingAgent);
    run.child.kill("SIGINT");
    const result = await run.exited;
    expect(result.code).toBe(130);
    const records = parseNdjson(result.stdout);
    const id = sessionOf(result.stdout);
    expect(records).toContainEqual({ type: "notice", message: `interrupted: closing session ${id}: it runs on the bundled simulator, which ends with this process, so nothing could continue it later` });
    expect(records.at(-1)).toMatchObject({ type: "outcome", session: id, state: "closed", closeReason: interruptedOnSimulatorReason, prompts: [{ status: "undelivered" }] });
    expect(await openSessions()).toEqual([]);
    expect(await detail(id)).toMatchObject({ state: "closed", final: true, closeReason: interruptedOnSimulatorReason });
  }, 180_000);

  test("a session whose runtime is gone for good: resume says plainly it cannot continue and how to end it; close ends it, recorded in the log", async () => {
    // A runtime that outlives the CLI: Ctrl-C detaches, and the session stays open for resume or close.
    const sim = startCli(["sim"]);
    await sim.waitFor(/listening on port \d+/);
    const runtime = `127.0.0.1:${/listening on port (\d+)/.exec(sim.stdout())?.[1] ?? ""}`;
    const run = startCli(["run", "--store", store.path, "--runtime", runtime, "--repo", "demo/never-connects", "hello"]);
    await run.waitFor(/waiting for the agent/);
    run.child.kill("SIGINT");
    const interrupted = await run.exited;
    expect(interrupted.code).toBe(130);
    const id = /^session (\S+) ·/m.exec(interrupted.stdout)?.[1] ?? "";
    expect(interrupted.stderr).toContain(`interrupted: session ${id} is left open; \`./cloudsession resume ${id}\` continues it, \`./cloudsession close ${id}\` ends it`);
    // Then that runtime goes away for good.
    sim.child.kill("SIGINT");
    expect((await sim.exited).code).toBe(0);
    expect(await openSessions()).toEqual([expect.objectContaining({ id, state: "awaiting-agent", final: false })]);
    const listed = await runCli(["ls", "--open", "--store", store.path]);
    expect(listed.stdout).toContain("1 open: `./cloudsession resume <id>` continues one on the runtime it ran on; `./cloudsession close <id>` ends one nothing can continue.");

    const onSimulator = await runCli(["resume", id, "--store", store.path]);
    expect(onSimulator.code).toBe(2);
    expect(onSimulator.stderr).toContain(`error: session ${id} cannot be resumed here: the bundled simulator starts empty in every process`);
    expect(onSimulator.stderr).toContain(`end it with \`./cloudsession close ${id}\``);
    const onGoneRuntime = await runCli(["resume", id, "--runtime", runtime, "--store", store.path]);
    expect(onGoneRuntime.code).toBe(1);
    expect(onGoneRuntime.stderr).toContain(`error: cannot reach the Copilot runtime at ${runtime}: connection refused`);

    const close = await runCli(["close", id, "--reason", "its runtime is gone", "--store", store.path]);
    expect(close.code).toBe(0);
    expect(close.stdout).toContain("closed · 0/1 prompts completed");
    const closed = await detail(id);
    expect(closed).toMatchObject({ state: "closed", final: true, closeReason: "its runtime is gone", prompts: [{ text: "hello", status: "undelivered" }] });
    expect((closed["timeline"] as { type: string }[]).at(-1)?.type).toBe("close.requested");
    expect(await openSessions()).toEqual([]);

    // Closing again changes nothing; an unknown id is a usage error.
    const again = await runCli(["close", id, "--store", store.path]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`session ${id} has already ended (closed): nothing to close`);
    const unknown = await runCli(["close", "no-such-session", "--store", store.path]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: no session no-such-session in this store\nhint: `\.\/cloudsession ls`/);
  }, 400_000);
});
