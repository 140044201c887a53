import { PRESET_NAMES, UNTIDY_DEFAULTS } from "@cloudsession/simulator";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { closeCommand, type CloseFlags } from "./commands/close.js";
import { lsCommand } from "./commands/ls.js";
import { replayCommand } from "./commands/replay.js";
import { resumeCommand } from "./commands/resume.js";
import { runCommand, type RunFlags } from "./commands/run.js";
import { showCommand } from "./commands/show.js";
import { simCommand, type SimFlags } from "./commands/sim.js";
import { addUiCommand } from "./commands/ui.js";
import { commandName, type CommandContext } from "./commandContext.js";
import { runDemo } from "./demo.js";
import { ExitCode, exitCodeHelp } from "./exitCodes.js";
import { writeRecord } from "./output/ndjson.js";
import { createTerminal, type Terminal } from "./output/terminal.js";
import { parsePort } from "./ports.js";
import { reportError } from "./reportError.js";
import type { SessionCommandFlags } from "./sessionCommand.js";
import { defaultStoreDirectory } from "./storeLocation.js";

/** Where `main` reads and writes; the process's own streams by default. */
export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
  /** Read only by `--prompt-file -`; the process's standard input when absent. */
  readonly stdin?: NodeJS.ReadableStream;
}

const seconds = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError("expected a number of seconds > 0");
  return parsed;
};

const integer = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError("expected an integer >= 0");
  return parsed;
};

const number = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError("expected a number >= 0");
  return parsed;
};

const probability = (value: string): number => {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new InvalidArgumentError("expected a probability from 0 to 1");
  return parsed;
};

/** A repeatable option's values, in order. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Which runtime a command talks to. */
function runtimeOptions(command: Command, name: string): Command {
  return command
    .addOption(new Option("--simulate [scenario]", `use the bundled simulator (the default without GitHub credentials); scenarios: ${PRESET_NAMES.join(", ")}. Write --simulate=<scenario>`))
    .addOption(new Option("--live", "use the real Copilot runtime with your credentials (GH_TOKEN, GITHUB_TOKEN or COPILOT_GITHUB_TOKEN)"))
    .addOption(new Option("--runtime <host:port>", `use a Copilot runtime already listening, e.g. \`${name} sim --port 4321\` and --runtime 127.0.0.1:4321`));
}

/** The options of every command that runs sessions. */
function sessionOptions(command: Command, name: string): Command {
  return runtimeOptions(command, name)
    .addOption(new Option("--inspect [port]", "serve the Stately inspector bridge on 127.0.0.1 and print its URL (prompts and tokens redacted); write --inspect=<port> for a fixed port").argParser(parsePort))
    .addOption(new Option("--reservation-timeout <seconds>", "longest wait for a reserved task, retries included (default 120)").argParser(seconds))
    .addOption(new Option("--agent-timeout <seconds>", "longest wait for the remote agent to start (default 60)").argParser(seconds))
    .addOption(new Option("--turn-timeout <seconds>", "longest silence inside a turn before it is aborted (default 300)").argParser(seconds))
    .addOption(new Option("--unreachable-timeout <seconds>", "longest time out of contact with the runtime before the session fails (default 300)").argParser(seconds));
}

/** The examples at the end of `--help`, spelled the way the user calls the CLI. */
function examples(name: string): string {
  return [
    "Examples:",
    `  ${name} run --repo octo/demo "Summarise the README" "List the open TODOs"`,
    `  ${name} run --json --repo octo/demo "Summarise the README"   # NDJSON for scripts`,
    `  ${name} run --repo octo/demo --prompt-file brief.md        # a long prompt from a file (- for stdin)`,
    `  ${name} ls --open`,
    `  ${name} show <id>`,
    `  ${name} replay <id>`,
    `  ${name} close <id> --reason "no longer needed"`,
  ].join("\n");
}

/**
 * Builds the `cloudsession` command line. Each action stores its exit code in `result`: the
 * caller decides how to exit.
 */
export function createProgram(io: CliIo, terminal: Terminal, result: { code: number }): Command {
  const name = commandName(io.env);
  const program = new Command(name);
  const context = (command: Command): CommandContext => {
    const globals = command.optsWithGlobals<{ json?: boolean; store?: string }>();
    return { terminal, env: io.env, stdin: io.stdin ?? process.stdin, json: globals.json === true, store: globals.store, command: name };
  };
  program
    .description("Run GitHub Copilot SDK cloud sessions from the terminal, recorded in an event log.")
    .option("--json", "write NDJSON (one JSON object per line) for scripts")
    .option("--store <directory|postgres://…|memory:>", `where the event log lives (default: $CLOUDSESSION_STORE, else ${defaultStoreDirectory()})`)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(terminal.colors.red(text)),
    })
    .addHelpText("after", `\n${examples(name)}\n\n${exitCodeHelp}\n\nWithout GitHub credentials every session runs on the bundled simulator (and says so).`);

  sessionOptions(
    program
      .command("run")
      .description("create a cloud session, stream the answers live, close it after the last prompt")
      .argument("[prompts...]", "prompts, delivered in order once the agent is there")
      .option("-r, --repo <owner/name[@branch]>", "the GitHub repository the session works in")
      .option("--prompt-file <path>", "a UTF-8 file holding one prompt (- reads standard input); repeatable, queued after the prompts given as arguments. For prompts too long for the command line", collect),
    name,
  ).action(async (prompts: string[], flags: RunFlags, command: Command) => {
    result.code = await runCommand(prompts, flags, context(command));
  });

  program
    .command("ls")
    .description("list the sessions in the store")
    .option("--open", "only sessions that have not ended")
    .action(async (flags: { open?: boolean }, command: Command) => {
      result.code = await lsCommand(flags, context(command));
    });

  program
    .command("show")
    .description("a session's state, URL, prompts and their delivery, and timeline")
    .argument("<id>", `session id (see \`${name} ls\`)`)
    .action(async (id: string, _flags: unknown, command: Command) => {
      result.code = await showCommand(id, context(command));
    });

  program
    .command("replay")
    .description("feed a session's log through the lifecycle machine and print each transition")
    .argument("<id>", "session id")
    .addOption(new Option("--inspect [port]", "also show the replayed actor in the Stately inspector").argParser(parsePort))
    .action(async (id: string, flags: { inspect?: number }, command: Command) => {
      result.code = await replayCommand(id, flags, context(command));
    });

  sessionOptions(
    program
      .command("resume")
      .description("continue a stored session, optionally with one more prompt, then close it")
      .argument("<id>", "session id")
      .argument("[prompt]", "one more prompt"),
    name,
  ).action(async (id: string, prompt: string | undefined, flags: SessionCommandFlags, command: Command) => {
    result.code = await resumeCommand(id, prompt, flags, context(command));
  });

  runtimeOptions(
    program
      .command("close")
      .description("end an open session on purpose: the close and its reason go into its log (queued prompts are reported undelivered)")
      .argument("<id>", "session id")
      .option("--reason <text>", "why, recorded in the log (default: \"closed with cloudsession close\")"),
    name,
  ).action(async (id: string, flags: CloseFlags, command: Command) => {
    result.code = await closeCommand(id, flags, context(command));
  });

  program
    .command("sim")
    .description("run the bundled simulator on its own (127.0.0.1) until Ctrl-C")
    .option("--port <port>", "TCP port (default: a free one)", parsePort)
    .option("--scenario <name>", `one of: ${PRESET_NAMES.join(", ")}`)
    .option("--seed <n>", "random seed", integer)
    .option("--time-scale <x>", "real ms per simulated ms (default 1)", number)
    .option("--token <token>", "connection token clients must present")
    .option("--drop-rate <p>", `with --scenario untidy: chance per event that the runtime drops the session's sockets (default ${UNTIDY_DEFAULTS.dropRate})`, probability)
    .action(async (flags: SimFlags, command: Command) => {
      result.code = await simCommand(flags, context(command));
    });

  sessionOptions(
    program
      .command("start")
      .description("the demo: a normal session, a slow agent with queued prompts, and a policy-blocked one, on the simulator"),
    name,
  ).action(async (flags: SessionCommandFlags, command: Command) => {
    result.code = (await runDemo(context(command), flags)).exitCode;
  });
  addUiCommand(program, context, result);
  return program;
}

/**
 * `--simulate` and `--inspect` take optional values, so a bare one would swallow the prompt after
 * it. Only `--simulate=<scenario>` / `--inspect=<port>` carry a value; a bare one means the default.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  return argv.map((arg) => (arg === "--simulate" ? "--simulate=normal" : arg === "--inspect" ? "--inspect=0" : arg));
}

/**
 * Runs the CLI and resolves with the exit code; never throws.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const json = argv.includes("--json");
  const terminal = createTerminal(io.stdout, io.stderr, io.env, json);
  const result = { code: ExitCode.success as number };
  const program = createProgram(io, terminal, result);
  try {
    await program.parseAsync(normalizeArgv(argv), { from: "user" });
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return ExitCode.success;
      // Commander already printed its one line on stderr; with --json stdout gets the record too.
      if (json) writeRecord(io.stdout, { type: "error", code: "USAGE", message: error.message.replace(/^error: /, ""), exitCode: ExitCode.usage });
      return ExitCode.usage;
    }
    return reportError(error, terminal, json, io.env, commandName(io.env));
  }
}
