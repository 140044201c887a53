// Regenerates the lifecycle diagram in docs/lifecycle.md from the machine definition.
// Run: npm --prefix packages/cli run diagram (test/diagram.test.ts fails when it is stale).
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { withFreshDiagram } from "../src/diagram/lifecycleDiagram.js";

const file = resolve(import.meta.dirname, "../../../docs/lifecycle.md");
const before = readFileSync(file, "utf8");
const after = withFreshDiagram(before);
if (after === before) console.log("docs/lifecycle.md is up to date");
else {
  writeFileSync(file, after);
  console.log("docs/lifecycle.md regenerated");
}
