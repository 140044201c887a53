import pc from "picocolors";

type Colors = ReturnType<typeof pc.createColors>;

/** Where the CLI writes, and what that place can show. */
export interface Terminal {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** stdout is a terminal: spinners and in-place updates are allowed. */
  readonly interactive: boolean;
  /** Colours are on: stdout is a terminal, `NO_COLOR` is unset and `TERM` is not `dumb`. */
  readonly color: boolean;
  readonly colors: Colors;
  /** One line on stdout. */
  line(text?: string): void;
  /** One line on stderr. */
  note(text: string): void;
}

/**
 * Decides once how output looks. No ANSI codes ever reach a pipe or a file, whatever the
 * environment says, because scripts parse that output.
 *
 * @example
 * const terminal = createTerminal(process.stdout, process.stderr, process.env);
 * terminal.line(terminal.colors.bold("hello"));
 */
export function createTerminal(stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Terminal {
  const interactive = stdout.isTTY && env["TERM"] !== "dumb";
  // https://no-color.org: present and not empty disables colour.
  const noColor = env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "";
  const color = interactive && !noColor;
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
