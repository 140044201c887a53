// @ts-check
// `pnpm mutate --package machine` (scripts/mutate.mjs): mutation testing of the lifecycle machine.
import { strykerConfig } from "../../scripts/strykerConfig.mjs";

export default strykerConfig("machine", {
  // Mutants that run only while modules load (mostly the machine's definition) would need every
  // test, a fresh environment each: run them on their own with `--ignoreStatic false`.
  ignoreStatic: true,
  vitest: { configFile: "packages/machine/vitest.mutation.config.ts", dir: "packages/machine" },
});
