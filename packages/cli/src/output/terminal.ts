import pc from "picocolors";

type Colors = ReturnType<typeof pc.createColors>;

/** Where the CLI writes, and what that place can show. */
export interface Terminal {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** stdout is a terminal: spinners and in-place updates are allowed. */
  readonly interactive: boolean;
  /** Colours are on (see {@link colorWanted}). */
  readonly color: boolean;
  readonly colors: Colors;
  /** One line on stdout. */
  line(text?: string): void;
  /** One line on stderr. */
  note(text: string): void;
}

/**
 * Whether to colour: `FORCE_COLOR` decides when set (`0` or `false` off, anything else on, even
 * into a pipe; it wins over `NO_COLOR`, as in Node.js); else `NO_COLOR` (present and not empty,
 * https://no-color.org) turns colour off; else colour exactly when stdout is a terminal whose
 * `TERM` is not `dumb`.
 *
 * @example
 * colorWanted(false, { FORCE_COLOR: "1" }) // true
 */
export function colorWanted(isTerminal: boolean, env: NodeJS.ProcessEnv): boolean {
  const force = env["FORCE_COLOR"];
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if ((env["NO_COLOR"] ?? "") !== "") return false;
  return isTerminal && env["TERM"] !== "dumb";
}

/**
 * Decides once how output looks. No ANSI codes reach a pipe or a file unless `FORCE_COLOR` asks
 * for them, and `--json` output never has any (the caller passes `json`).
 *
 * @example
 * const terminal = createTerminal(process.stdout, process.stderr, process.env);
 * terminal.line(terminal.colors.bold("hello"));
 */
export function createTerminal(stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream, env: NodeJS.ProcessEnv, json = false): Terminal {
  const interactive = stdout.isTTY && env["TERM"] !== "dumb";
  const color = !json && colorWanted(stdout.isTTY, env);
  return {
    stdout,
    stderr,
    interactive,
    color,
    colors: pc.createColors(color),
    line: (text = "") => stdout.write(`${text}\n`),
    note: (text) => stderr.write(`${text}\n`),
  };
}
