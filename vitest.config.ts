import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["packages/*", "examples/*"],
    // CI reads one plain closing line; vitest's own summary is for people.
    reporters: ["default", "./scripts/count-reporter.ts"],
  },
});
