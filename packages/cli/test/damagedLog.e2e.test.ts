import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseNdjson, runCli, tempDir } from "./support/cli.js";

// One embedded (PGlite) store: the demo's three sessions, then two of their logs damaged with SQL.
const store = tempDir("cloudsession-damaged-");
afterAll(() => store.remove());
let undecodable = "";
let unknownType = "";
let healthy = "";

beforeAll(async () => {
  const demo = await runCli(["start", "--json", "--store", store.path]);
  expect(demo.code).toBe(0);
  const ids = parseNdjson(demo.stdout)
    .filter((record) => record["type"] === "session")
    .map((record) => String(record["session"]));
  expect(ids).toHaveLength(3);
  [undecodable, unknownType, healthy] = ids as [string, string, string];
  // No CLI runs now: the embedded store is this process's alone.
  const db = await PGlite.create(store.path);
  try {
    // A row whose JSON does not decode: the store's CORRUPTED_EVENT.
    await db.query("UPDATE cloudsession.events SET data = '{not json' WHERE stream_id = $1 AND version = 3", [undecodable]);
    // A row of a type no session has: the engine's CORRUPTED_LOG.
    await db.query("UPDATE cloudsession.events SET type = 'no.such.event' WHERE stream_id = $1 AND version = 2", [unknownType]);
  } finally {
    await db.close();
  }
}, 180_000);

describe("a damaged log in the CLI: listed and marked, explained with its own exit code", () => {
  test("ls lists every session, marks the damaged ones, exits 0; --json carries the store's or engine's code", async () => {
    const json = await runCli(["ls", "--json", "--store", store.path]);
    expect(json.code).toBe(0);
    const listed = parseNdjson(json.stdout);
    expect(listed.map((entry) => entry["id"])).toEqual([undecodable, unknownType, healthy]);
    expect(listed[0]).toMatchObject({ state: "damaged", repository: null, prompts: null, damage: { code: "CORRUPTED_EVENT", message: expect.stringContaining(`${undecodable}@3`) as unknown } });
    expect(listed[1]).toMatchObject({ state: "damaged", damage: { code: "CORRUPTED_LOG", message: expect.stringContaining("unknown event type") as unknown } });
    expect(listed[2]).toMatchObject({ state: "blocked", repository: "demo/blocked-org" });
    expect(listed[2]).not.toHaveProperty("damage");

    const text = await runCli(["ls", "--store", store.path]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n").filter((line) => /^[0-9a-f-]{36} +damaged /.test(line))).toHaveLength(2);
    expect(text.stdout).toContain(`2 damaged logs: \`./cloudsession show ${undecodable}\` says what is wrong`);
  }, 60_000);

  test("show of a damaged session says what is wrong and exits 6, never 'looks like a bug'", async () => {
    const result = await runCli(["show", undecodable, "--store", store.path]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(new RegExp(`^error: the log of session ${undecodable} is damaged \\(CORRUPTED_EVENT\\): .*data is not valid JSON\\nhint: nothing acts on a damaged log`));
    expect(result.stderr).not.toMatch(/looks like a bug/);
  }, 60_000);

  test("replay --json of a damaged session: one error record with the damage, exit 6", async () => {
    const result = await runCli(["replay", unknownType, "--json", "--store", store.path]);
    expect(result.code).toBe(6);
    expect(parseNdjson(result.stdout)).toEqual([
      expect.objectContaining({ type: "error", code: "DAMAGED_LOG", exitCode: 6, damage: { code: "CORRUPTED_LOG", message: expect.stringContaining(`session ${unknownType}, event 2 (no.such.event): unknown event type`) as unknown } }),
    ]);
  }, 60_000);

  test("close and resume refuse a damaged session (exit 6) and write nothing; the healthy one still shows", async () => {
    const close = await runCli(["close", unknownType, "--store", store.path]);
    expect(close.code).toBe(6);
    expect(close.stderr).toContain(`error: the log of session ${unknownType} is damaged (CORRUPTED_LOG)`);
    const resume = await runCli(["resume", undecodable, "--store", store.path]);
    expect(resume.code).toBe(6);
    const show = await runCli(["show", healthy, "--json", "--store", store.path]);
    expect(show.code).toBe(0);
    expect(parseNdjson(show.stdout)[0]).toMatchObject({ id: healthy, state: "blocked" });
    const after = parseNdjson((await runCli(["ls", "--json", "--store", store.path])).stdout);
    expect(after.map((entry) => entry["state"])).toEqual(["damaged", "damaged", "blocked"]);
  }, 120_000);
});
