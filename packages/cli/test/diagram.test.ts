import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { renderLifecycleDiagram, withFreshDiagram } from "../src/diagram/lifecycleDiagram.js";

describe("the lifecycle diagram in docs/lifecycle.md", () => {
  test("is what the machine definition generates today (run `npm --prefix packages/cli run diagram` when this fails)", () => {
    const document = readFileSync(resolve(import.meta.dirname, "../../../docs/lifecycle.md"), "utf8");
    expect(withFreshDiagram(document)).toBe(document);
  });

  test("shows every state and the transitions that matter", () => {
    const diagram = renderLifecycleDiagram();
    for (const state of ["reserving", "attempting", "backing-off", "awaiting-agent", "ready", "streaming", "aborting", "blocked", "failed", "closed"]) {
      expect(diagram).toContain(`"${state}"`);
    }
    expect(diagram).toContain("reserving_attempting --> blocked : reservation.failed [isFailure(policy_blocked)]");
    expect(diagram).toContain("awaiting_agent --> ready : agent.started [isAgentProducer]");
    expect(diagram).toContain("ready --> closed : close.requested");
  });
});
