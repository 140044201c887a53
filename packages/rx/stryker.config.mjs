// @ts-check
// `pnpm mutate --package rx` (scripts/mutate.mjs): mutation testing of the RxJS adapter.
import { strykerConfig } from "../../scripts/strykerConfig.mjs";

export default strykerConfig("rx");
