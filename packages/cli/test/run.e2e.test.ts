import { describe, expect, test } from "vitest";
import { ansi, anyNumber, anyString, containing, matching, parseNdjson, runCli } from "./support/cli.js";

describe("cloudsession run on the bundled simulator: one exit code per outcome", () => {
  test("success: the answers stream, the session closes, exit 0, and it says the simulator is used", async () => {
    const result = await runCli(["run", "--store", "memory:", "--repo", "octo/demo", "first prompt", "second prompt"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("no GitHub credentials found");
    expect(result.stdout).toContain("Simulated reply to: first prompt");
    expect(result.stdout).toContain("Simulated reply to: second prompt");
    expect(result.stdout).toMatch(/Mission Control https:\/\/github\.com\/copilot\/tasks\//);
    expect(result.stdout).toContain("closed · 2/2 prompts completed");
    // Piped: plain lines only.
    expect(result.stdout).not.toMatch(ansi);
  });

  test("blocked: exit 3, one line naming the policy problem, and a hint about org policy and entitlement", async () => {
    const result = await runCli(["run", "--store", "memory:", "--repo", "demo/blocked-org", "hello"]);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/blocked while reserving \(policy_blocked\)/);
    expect(result.stdout).toMatch(/hint: .*Copilot .*policy.*entitlement/);
    expect(result.stdout).toContain("undelivered hello (session-blocked)");
  });

  test("timed out: the agent never connects, exit 4", async () => {
    const result = await runCli(["run", "--store", "memory:", "--repo", "demo/never-connects", "--agent-timeout", "0.3", "hello"]);
    expect(result.code).toBe(4);
    expect(result.stdout).toContain("failed while awaiting-agent (timeout)");
  });

  test("failed: a turn stalls and is aborted, so a prompt did not complete, exit 5", async () => {
    const result = await runCli(["run", "--store", "memory:", "--simulate=stall", "--turn-timeout", "0.3", "--repo", "octo/demo", "hello"]);
    expect(result.code).toBe(5);
    expect(result.stdout).toMatch(/interrupted/);
  });

  test("usage: a missing repository is one line and a hint on how to pass --repo, exit 2", async () => {
    const result = await runCli(["run", "--store", "memory:", "hello"]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toEqual([matching(/^error: no repository given/), matching(/^hint: pass --repo owner\/name/)]);
  });

  test("--help lists every exit code, and examples spelled as the CLI was called", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    for (const code of ["0  success", "1  the store or the runtime cannot be reached", "2  usage", "3  blocked", "4  timed out", "5  failed", "6  the session's stored log is damaged", "130  interrupted"]) {
      expect(result.stdout).toContain(code);
    }
    expect(result.stdout).toMatch(/^Usage: \.\/cloudsession \[options\] \[command\]/);
    expect(result.stdout).toContain('Examples:\n  ./cloudsession run --repo octo/demo "Summarise the README" "List the open TODOs"');
    expect(result.stdout).not.toMatch(/(^|\s)(pnpm |npx )?cloudsession /m);
    expect(result.stdout).not.toMatch(ansi);
  });

  test("--json: every line is a known record, the outcome comes last, no ANSI", async () => {
    const result = await runCli(["run", "--json", "--store", "memory:", "--repo", "octo/demo@main", "hello"]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(ansi);
    const records = parseNdjson(result.stdout);
    const types = new Set(records.map((record) => record["type"]));
    expect([...types].every((type) => ["notice", "session", "state", "transition", "remote-url", "prompt", "reply", "outcome"].includes(String(type)))).toBe(true);
    const session = records.find((record) => record["type"] === "session");
    expect(session).toEqual({ type: "session", session: anyString, repository: "octo/demo@main" });
    const id = session?.["session"];
    for (const record of records.filter((r) => r["type"] === "transition")) {
      expect(record).toEqual({ type: "transition", session: id, seq: anyNumber, from: record["seq"] === 0 ? null : anyString, to: anyString, event: anyString, at: anyNumber });
    }
    expect(records.filter((r) => r["type"] === "state").map((r) => r["state"])).toEqual(["reserving", "awaiting-agent", "ready", "streaming", "ready", "closed"]);
    expect(records.find((r) => r["type"] === "remote-url")).toEqual({ type: "remote-url", session: id, url: matching(/^https:\/\/github\.com\/copilot\/tasks\//) });
    expect(records.find((r) => r["type"] === "reply")).toEqual({ type: "reply", session: id, turn: 1, text: "Simulated reply to: hello" });
    expect(records.at(-1)).toEqual({
      type: "outcome",
      session: id,
      state: "closed",
      failure: null,
      closeReason: "all prompts answered",
      prompts: [{ id: anyString, status: "completed", reply: "Simulated reply to: hello" }],
      exitCode: 0,
      result: "success",
    });
  });

  test("--json errors are an error record with code, hint and exit code", async () => {
    const result = await runCli(["run", "--json", "--store", "memory:", "--repo", "not a repo", "hello"]);
    expect(result.code).toBe(2);
    const records = parseNdjson(result.stdout);
    expect(records.at(-1)).toEqual({ type: "error", code: "INVALID_REPOSITORY", message: anyString, hint: containing("--repo"), exitCode: 2 });
  });
});

describe("cloudsession start (the demo npm start runs)", () => {
  test("a normal session, a slow agent whose early prompts are all delivered, and a blocked one", async () => {
    const result = await runCli(["start", "--json", "--store", "memory:"]);
    expect(result.code).toBe(0);
    const outcomes = parseNdjson(result.stdout).filter((record) => record["type"] === "outcome");
    expect(outcomes.map((outcome) => outcome["state"])).toEqual(["closed", "closed", "blocked"]);
    const slowPrompts = outcomes[1]?.["prompts"] as { status: string }[];
    expect(slowPrompts.map((prompt) => prompt.status)).toEqual(["completed", "completed", "completed"]);
    expect(outcomes[2]?.["hint"]).toMatch(/policy/);
  });
});
