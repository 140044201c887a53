import { readFile } from "node:fs/promises";
import { expect, test } from "vitest";

test("the README's example runs, and the README shows exactly this code", async () => {
  // #region example
  const { replay, resolveSettings, promptToDispatch } = await import("@cloudsession/machine");

  const snapshot = replay([
    { type: "session.requested", repository: { owner: "octo", name: "demo" }, settings: resolveSettings(), at: 0 },
    { type: "prompt.submitted", promptId: "p1", text: "Hello", at: 1 },
    { type: "reservation.succeeded", sessionId: "s1", at: 900 },
    { type: "agent.started", producer: "copilot-agent", at: 2_100 },
  ]);
  const state = snapshot.value; // "ready"
  const next = promptToDispatch(snapshot)?.id; // "p1": the engine dispatches it now
  // #endregion example

  expect(state).toBe("ready");
  expect(next).toBe("p1");
  const source = await readFile(new URL(import.meta.url), "utf8");
  const region = /\/\/ #region example\n([\s\S]*?)\n\s*\/\/ #endregion example/.exec(source)?.[1] ?? "";
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  expect(readme).toContain(region.replace(/^ {2}/gm, ""));
});

test("the README's prompt list example runs, and the README shows exactly this code", async () => {
  const { PromptList } = await import("@cloudsession/machine");
  // #region prompts
  const prompts = PromptList.empty.append({ id: "p1", text: "Hello", status: "queued", submittedAt: 1 });
  const status = prompts.get("p1")?.status; // "queued"
  const head = prompts.queueHead?.id; // "p1"
  const json = JSON.stringify(prompts); // '[{"id":"p1","text":"Hello","status":"queued","submittedAt":1}]'
  // #endregion prompts

  expect(status).toBe("queued");
  expect(head).toBe("p1");
  expect(json).toBe('[{"id":"p1","text":"Hello","status":"queued","submittedAt":1}]');
  const source = await readFile(new URL(import.meta.url), "utf8");
  const region = /\/\/ #region prompts\n([\s\S]*?)\n\s*\/\/ #endregion prompts/.exec(source)?.[1] ?? "";
  expect(region).not.toBe("");
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  expect(readme).toContain(region.replace(/^ {2}/gm, ""));
});
