import { startSimulator } from "@cloudsession/simulator";
import { readFile } from "node:fs/promises";
import { expect, test } from "vitest";

test("the README's example runs, and the README shows exactly this code", async () => {
  const simulator = await startSimulator({ timeScale: 0.01 });
  const runtimeUrl = simulator.url;
  const lines: string[] = [];
  const print = (line: string) => lines.push(line);
  try {
    // #region example
    const { createEngine } = await import("@cloudsession/engine");

    const engine = createEngine({ runtimeUrl });
    const session = await engine.start({
      repository: { owner: "octo", name: "demo", branch: "main" },
      prompts: ["Summarise the README"],
    });
    await session.send("Now list the open TODOs"); // in the log now; sent once the agent is really there

    session.state$.subscribe((state) => print(`state: ${state}`));
    session.remoteUrl$.subscribe((url) => print(`Mission Control: ${url}`));
    session.text$.subscribe(({ turn, text, done }) => done && print(`answer ${turn}: ${text}`));

    // Wait for both answers, then end the session.
    await new Promise<void>((resolve) => {
      session.text$.subscribe(({ turn, done }) => done && turn === 2 && resolve());
    });
    const outcome = await session.close();
    print(`ended ${outcome.state}: ${outcome.prompts.map((prompt) => prompt.status).join(", ")}`);
    await engine.close();
    // #endregion example
  } finally {
    await simulator.close();
  }
  expect(lines[0]).toBe("state: reserving");
  expect(lines).toContain("state: ready");
  expect(lines.some((line) => line.startsWith("Mission Control: https://github.com/copilot/tasks/"))).toBe(true);
  expect(lines).toContain("answer 1: Simulated reply to: Summarise the README");
  expect(lines.at(-1)).toBe("ended closed: completed, completed");

  const source = await readFile(new URL(import.meta.url), "utf8");
  const region = /\/\/ #region example\n([\s\S]*?)\n\s*\/\/ #endregion example/.exec(source)?.[1] ?? "";
  const code = region.replace(/^ {4}/gm, "");
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  expect(readme).toContain(code);
});
