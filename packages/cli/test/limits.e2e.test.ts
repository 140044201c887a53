import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { containing, parseNdjson, runCli, runMain, startCli, tempDir } from "./support/cli.js";

/**
 * The engine's intake limits (defaults: `maxPromptBytes` 262,144 UTF-8 bytes, `maxQueuedPrompts`
 * 1,000) at, just below and just above their values, through the CLI: a prompt that large only
 * fits through `--prompt-file` (Linux caps one argument at 128 KiB).
 */
const scratch = tempDir("cloudsession-limits-");
afterAll(() => scratch.remove());

/** Every refused run below uses this store: none may leave a session in it. */
const refusedStore = join(scratch.path, "refused-store");
mkdirSync(refusedStore);

const limit = 262_144;
/** Writes `text` to a file of the scratch directory and returns its path. */
function file(name: string, text: string | Buffer): string {
  const path = join(scratch.path, name);
  writeFileSync(path, text);
  return path;
}
/** 4 UTF-8 bytes, 2 UTF-16 units: a character count says nothing about the byte count. */
const emoji = "\u{1F600}";

const records = (stdout: string, type: string): Record<string, unknown>[] => parseNdjson(stdout).filter((record) => record["type"] === type);

describe("run --prompt-file: each file one prompt, read as UTF-8, after the positional prompts", () => {
  test("a file and standard input (-) are prompts of their own, in order after the arguments", async () => {
    const brief = file("brief.md", "from a file\n");
    const result = await runMain(["run", "--json", "--store", "memory:", "--repo", "octo/demo", "from an argument", "--prompt-file", brief, "--prompt-file", "-"], {}, "from standard input");
    expect(result.code).toBe(0);
    expect(records(result.stdout, "reply").map((reply) => reply["text"])).toEqual([
      "Simulated reply to: from an argument",
      "Simulated reply to: from a file\n",
      "Simulated reply to: from standard input",
    ]);
  });

  test("a byte-order mark is not part of the prompt", async () => {
    const marked = file("marked.md", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("marked")]));
    const result = await runMain(["run", "--json", "--store", "memory:", "--repo", "octo/demo", "--prompt-file", marked]);
    expect(result.code).toBe(0);
    expect(records(result.stdout, "reply").map((reply) => reply["text"])).toEqual(["Simulated reply to: marked"]);
  });

  const hint = containing("--prompt-file takes a UTF-8 text file");
  test.each([
    ["a missing file", () => join(scratch.path, "missing.md"), "PROMPT_FILE_UNREADABLE", /^cannot read prompt file .*missing\.md: no such file$/],
    ["a directory", () => scratch.path, "PROMPT_FILE_UNREADABLE", /^cannot read prompt file .*: it is a directory$/],
    ["a file that is not UTF-8", () => file("latin1.md", Buffer.from([0x63, 0x61, 0x66, 0xe9])), "PROMPT_FILE_UNREADABLE", /^prompt file .*latin1\.md is not UTF-8 text$/],
    ["an empty file (like an empty prompt)", () => file("empty.md", " \n"), "MISSING_PROMPT", /^prompt file .*empty\.md is empty/],
  ])("%s: one error record, exit 2, nothing started", async (_name, path, code, message) => {
    const result = await runMain(["run", "--json", "--store", "memory:", "--repo", "octo/demo", "fine", "--prompt-file", path()]);
    expect(result.code).toBe(2);
    expect(parseNdjson(result.stdout)).toEqual([{ type: "error", code, message: expect.stringMatching(message) as unknown, hint, exitCode: 2 }]);
  });

  test("standard input twice: exit 2, it holds one prompt", async () => {
    const result = await runMain(["run", "--store", "memory:", "--repo", "octo/demo", "--prompt-file", "-", "--prompt-file", "-"], {}, "once");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: --prompt-file - is given more than once/);
    expect(result.stderr).toMatch(/\nhint: --prompt-file takes/);
  });
});

describe("maxPromptBytes (262,144 UTF-8 bytes) through run --prompt-file", () => {
  test("at the limit, one byte below, and at the limit in 4-byte characters: accepted, and the first reaches the runtime", async () => {
    const at = file("at.txt", "a".repeat(limit));
    const below = file("below.txt", "b".repeat(limit - 1));
    const wide = file("wide.txt", emoji.repeat(limit / 4));
    // The simulator echoes a prompt back in ~8-character deltas: answering 256 KiB takes about a
    // minute, so the run stops (Ctrl-C) once the runtime has taken the first prompt.
    const cli = startCli(["run", "--json", "--store", "memory:", "--repo", "octo/demo", "--prompt-file", at, "--prompt-file", below, "--prompt-file", wide]);
    try {
      await cli.waitFor(/"status":"sent"/);
    } finally {
      cli.child.kill("SIGINT");
    }
    const result = await cli.exited;
    expect(result.code).toBe(130);
    const prompts = records(result.stdout, "prompt");
    const queued = prompts.filter((prompt) => prompt["status"] === "queued").map((prompt) => prompt["promptId"]);
    expect(queued).toHaveLength(3);
    expect(prompts.find((prompt) => prompt["status"] === "sent")?.["promptId"]).toBe(queued[0]);
    expect(result.stdout).not.toContain('"type":"error"');
  });

  test.each([
    ["one byte over", () => file("over.txt", "a".repeat(limit + 1)), /^a prompt of 262145 bytes is over the limit of 262144 bytes \(limits\.maxPromptBytes\)$/],
    ["one byte over in 4-byte characters (65,537 characters)", () => file("wide-over.txt", `${emoji.repeat(limit / 4)}a`), /^a prompt of 262145 bytes is over the limit of 262144 bytes \(limits\.maxPromptBytes\)$/],
    ["far over (not read to its end)", () => file("huge.txt", "a".repeat(4 * limit)), /^prompt file .*huge\.txt is over the limit of 262144 bytes \(limits\.maxPromptBytes\)/],
    ["one byte over, from standard input", () => "-", /^a prompt of 262145 bytes is over the limit of 262144 bytes \(limits\.maxPromptBytes\)$/],
  ])("%s: refused with PROMPT_TOO_LARGE naming the limit, exit 2", async (_name, path, message) => {
    const result = await runMain(["run", "--json", "--store", refusedStore, "--repo", "octo/demo", "fine", "--prompt-file", path()], {}, "c".repeat(limit + 1));
    expect(result.code).toBe(2);
    expect(records(result.stdout, "error")).toEqual([
      { type: "error", code: "PROMPT_TOO_LARGE", message: expect.stringMatching(message) as unknown, hint: "shorten the prompt, or split it into several prompts", exitCode: 2 },
    ]);
    expect(records(result.stdout, "session")).toEqual([]);
  });

});

describe("maxQueuedPrompts (1,000) through run's prompts", () => {
  const numbered = (count: number): string[] => Array.from({ length: count }, (_, index) => `prompt ${index + 1}`);

  test(
    "1,000 prompts: accepted, every one answered, exit 0",
    async () => {
      const result = await runCli(["run", "--json", "--store", "memory:", "--repo", "octo/demo", ...numbered(1000)]);
      expect(result.code).toBe(0);
      const outcome = records(result.stdout, "outcome")[0];
      const prompts = outcome?.["prompts"] as { status: string; reply: string }[];
      expect(prompts).toHaveLength(1000);
      expect(prompts.every((prompt) => prompt.status === "completed")).toBe(true);
      expect(prompts.at(-1)?.reply).toBe("Simulated reply to: prompt 1000");
    },
    120_000,
  );

  test("999 prompts: accepted (the agent never connects, so they are reported undelivered), exit 4", async () => {
    const result = await runCli(["run", "--json", "--store", "memory:", "--repo", "demo/never-connects", "--agent-timeout", "0.3", ...numbered(999)]);
    expect(result.code).toBe(4);
    expect(records(result.stdout, "prompt").filter((prompt) => prompt["status"] === "queued")).toHaveLength(999);
    const prompts = records(result.stdout, "outcome")[0]?.["prompts"] as { status: string }[];
    expect(prompts.map((prompt) => prompt.status)).toEqual(Array.from({ length: 999 }, () => "undelivered"));
  });

  test.each([
    ["1,001 prompts as arguments", numbered(1001), []],
    ["1,000 as arguments and one more in a file", numbered(1000), ["--prompt-file", "-"]],
  ])("%s: refused at the start with TOO_MANY_PROMPTS naming the limit, exit 2, no session", async (_name, prompts, extra) => {
    const result = await runMain(["run", "--json", "--store", refusedStore, "--repo", "octo/demo", ...prompts, ...extra], {}, "one more");
    expect(result.code).toBe(2);
    expect(parseNdjson(result.stdout).filter((record) => record["type"] !== "notice")).toEqual([
      {
        type: "error",
        code: "TOO_MANY_PROMPTS",
        message: "a session starts with at most 1000 prompts (limits.maxQueuedPrompts), got 1001",
        hint: containing("split them over several runs"),
        exitCode: 2,
      },
    ]);
  });
});

describe("a refused run writes nothing", () => {
  test("after every refusal above, their store holds no session", async () => {
    const listed = await runMain(["ls", "--json", "--store", refusedStore]);
    expect(listed.code).toBe(0);
    expect(parseNdjson(listed.stdout)).toEqual([]);
  });
});
