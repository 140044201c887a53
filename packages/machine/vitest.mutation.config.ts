import { defineProject, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

/** The package's tests as Stryker runs them (stryker.config.mjs): see test/mutation.setup.ts. */
export default mergeConfig(base, defineProject({ test: { setupFiles: ["test/mutation.setup.ts"] } }));
