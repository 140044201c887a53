import type { Terminal } from "./output/terminal.js";

/** What every command receives: where to write, the environment, and the global flags. */
export interface CommandContext {
  readonly terminal: Terminal;
  readonly env: NodeJS.ProcessEnv;
  /** `--json`: NDJSON on stdout for scripts. */
  readonly json: boolean;
  /** `--store`, when given. */
  readonly store: string | undefined;
}
