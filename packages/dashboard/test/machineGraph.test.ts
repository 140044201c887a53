import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { guardLabel, machineGraph } from "../src/index.js";

/** The `A --> B : label` lines of docs/lifecycle.md's generated diagram, as dotted state ids. */
function documentedTransitions(): string[] {
  const document = readFileSync(resolve(import.meta.dirname, "../../../docs/lifecycle.md"), "utf8");
  const block = /```mermaid\n([\s\S]*?)```/.exec(document)?.[1] ?? "";
  const names = new Map<string, string>();
  for (const match of block.matchAll(/state "([^"]+)" as (\w+)/g)) names.set(match[2]!, match[1]!);
  const parents = new Map<string, string>();
  // Nesting: `state "x" as x {` opens a parent until its `}`.
  const stack: string[] = [];
  for (const line of block.split("\n")) {
    const open = /state "[^"]+" as (\w+) \{/.exec(line);
    const declared = /state "[^"]+" as (\w+)$/.exec(line.trim());
    if (open) {
      if (stack.length > 0) parents.set(open[1]!, stack.at(-1)!);
      stack.push(open[1]!);
    } else if (declared && stack.length > 0) parents.set(declared[1]!, stack.at(-1)!);
    else if (line.trim() === "}") stack.pop();
  }
  const dotted = (id: string): string => (parents.has(id) ? `${dotted(parents.get(id)!)}.${names.get(id)!}` : names.get(id)!);
  return [...block.matchAll(/^\s*(\w+) --> (\w+) : (.+)$/gm)].map((match) => `${dotted(match[1]!)} -> ${dotted(match[2]!)} : ${match[3]!}`);
}

describe("the diagram's graph is the machine's", () => {
  test("every state-changing transition docs/lifecycle.md draws, and no other", () => {
    const graph = machineGraph();
    const ours = graph.transitions.map((transition) => `${transition.from} -> ${transition.to} : ${transition.event}${transition.guard === undefined ? "" : ` [${transition.guard}]`}`);
    const documented = documentedTransitions();
    expect(documented.length).toBeGreaterThan(20);
    expect(ours.sort()).toEqual(documented.sort());
  });

  test("states carry their parent, kind and initial flag", () => {
    const states = machineGraph().states;
    expect(states.find((state) => state.id === "reserving")).toMatchObject({ kind: "compound", parent: null, initial: true });
    expect(states.find((state) => state.id === "reserving.attempting")).toMatchObject({ kind: "atomic", parent: "reserving", initial: true });
    expect(states.find((state) => state.id === "reserving.backing-off")).toMatchObject({ kind: "atomic", initial: false });
    expect(states.filter((state) => state.kind === "final").map((state) => state.id)).toEqual(["blocked", "failed", "closed"]);
  });

  test("guard labels: named, parameterised, composite", () => {
    expect(guardLabel(undefined)).toBeUndefined();
    expect(guardLabel("isNewPrompt")).toBe("isNewPrompt");
    expect(guardLabel({ type: "isDue", params: "retry" })).toBe("isDue(retry)");
    expect(guardLabel({ type: "isDue", params: { deadline: "x" } })).toBe('isDue({"deadline":"x"})');
    const and = Object.assign(() => true, { guards: ["a", { type: "b" }] });
    Object.defineProperty(and, "name", { value: "and" });
    expect(guardLabel(and)).toBe("a and b");
    const not = Object.assign(() => true, { guards: ["a"] });
    Object.defineProperty(not, "name", { value: "not" });
    expect(guardLabel(not)).toBe("not a");
  });
});
