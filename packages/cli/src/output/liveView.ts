import type { SessionHandle } from "@cloudsession/engine";
import type { LifecycleState, SessionOutcome } from "@cloudsession/machine";
import { createSpinner, type Spinner } from "nanospinner";
import { ExitCode } from "../exitCodes.js";
import { formatDuration } from "./duration.js";
import type { SessionLabel, SessionReporter } from "./reporter.js";
import type { Terminal } from "./terminal.js";

interface Phase {
  readonly text: string;
  readonly started: number;
  readonly spinner: Spinner | undefined;
  readonly ticker: NodeJS.Timeout | undefined;
}

/**
 * The human view of a session: the lifecycle with a spinner and elapsed time while waiting
 * (reserving, waiting for the agent), the Mission Control URL as soon as it is published, each
 * prompt as it is sent and the answer as it streams, then the final state. On a pipe the same
 * content comes as plain lines, with no ANSI codes.
 */
export class LiveView implements SessionReporter {
  private phase: Phase | undefined;
  private midLine = false;
  private readonly subscriptions: { unsubscribe(): void }[] = [];
  private readonly started = new Map<string, number>();

  constructor(private readonly terminal: Terminal) {}

  notice(message: string): void {
    this.terminal.note(this.terminal.colors.dim(message));
  }

  inspector(url: string): void {
    this.above(`${this.terminal.colors.magenta("inspector")} ${url} ${this.terminal.colors.dim("(open it in a browser; serving on 127.0.0.1 only)")}`);
  }

  attach(handle: SessionHandle, label: SessionLabel): void {
    const c = this.terminal.colors;
    this.started.set(handle.id, Date.now());
    if (label.title !== undefined) this.above(`\n${c.bold(label.title)}`);
    this.above(c.dim(`session ${handle.id} · ${label.repository}`));
    let agentReady = false;
    let currentTurn = 0;
    let printed = "";
    const onState = (state: LifecycleState): void => {
      switch (state) {
        case "reserving":
          this.startPhase(`reserving a task for ${label.repository}`, handle);
          break;
        case "awaiting-agent":
          this.endPhase(`task reserved${handle.sessionId === null ? "" : c.dim(` (${handle.sessionId})`)}`, true);
          this.startPhase("waiting for the agent", handle);
          break;
        case "ready":
        case "streaming":
          if (!agentReady) {
            agentReady = true;
            this.endPhase("agent ready", true);
          }
          break;
        default:
          // On a pipe the outcome line says it all; a spinner gets its final mark.
          this.endPhase(state, state === "closed", !this.terminal.interactive);
      }
    };
    // Prompts in the log before the session was shown (a start's first prompts, a resumed queue).
    for (const prompt of handle.snapshot().context.prompts) if (prompt.status === "queued") this.above(`${c.dim("queued")}  ${prompt.text}`);
    this.subscriptions.push(
      handle.state$.subscribe(onState),
      handle.remoteUrl$.subscribe((url) => this.above(`${c.dim("Mission Control")} ${c.underline(url)}`)),
      handle.events$.subscribe((event) => {
        const prompts = handle.snapshot().context.prompts;
        if (event.type === "prompt.submitted") {
          this.above(`${c.dim("queued")}  ${event.text}`);
        } else if (event.type === "prompt.dispatching") {
          const text = prompts.get(event.promptId)?.text ?? "";
          this.above(`${c.cyan("›")} ${c.bold(text)}`);
        } else if (event.type === "prompt.dispatch-failed") {
          this.above(c.yellow(`! the prompt could not be sent: ${event.message}`));
        }
      }),
      handle.text$.subscribe(({ turn, text, done }) => {
        if (turn !== currentTurn) {
          currentTurn = turn;
          printed = "";
        }
        // Whole messages settle what their deltas built; usually they agree, so print the rest only.
        const addition = text.startsWith(printed) ? text.slice(printed.length) : `\n${text}`;
        printed = text;
        if (addition !== "") this.write(addition);
        if (done && this.midLine) this.write("\n");
      }),
    );
  }

  transition(): void {
    // Transitions are for --json and `replay`; the live view shows the lifecycle instead.
  }

  outcome(session: string, outcome: SessionOutcome, exitCode: ExitCode, hint: string | undefined): void {
    const c = this.terminal.colors;
    this.endPhase(outcome.state, outcome.state === "closed");
    const total = formatDuration(Date.now() - (this.started.get(session) ?? Date.now()));
    const completed = outcome.prompts.filter((prompt) => prompt.status === "completed").length;
    const tally = `${completed}/${outcome.prompts.length} prompts completed`;
    if (outcome.failure === null) {
      const mark = exitCode === ExitCode.success ? c.green("✔") : c.yellow("!");
      this.above(`${mark} ${c.bold(outcome.state)} · ${tally} · ${total}`);
    } else {
      const { phase, reason, message } = outcome.failure;
      this.above(`${c.red("✖")} ${c.bold(outcome.state)} while ${phase} (${reason}): ${message} · ${tally} · ${total}`);
    }
    for (const prompt of outcome.prompts) {
      if (prompt.status !== "completed") this.above(c.dim(`  ${prompt.status.padEnd(11)} ${prompt.text}${prompt.reason === undefined ? "" : ` (${prompt.reason})`}`));
    }
    if (hint !== undefined) this.above(`${c.yellow("hint:")} ${hint}`);
  }

  dispose(): void {
    this.endPhase("", false, true);
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  private startPhase(text: string, handle: SessionHandle): void {
    this.endPhase("", false, true);
    const started = Date.now();
    const c = this.terminal.colors;
    // nanospinner divides by the terminal's width: a pty without a size (width 0) would hang it.
    if (!this.terminal.interactive || !(this.terminal.stdout.columns > 0)) {
      this.above(`${text}…`);
      this.phase = { text, started, spinner: undefined, ticker: undefined };
      return;
    }
    if (this.midLine) this.write("\n");
    const render = (): string => {
      const queued = handle.snapshot().status === "active" ? handle.snapshot().context.prompts.queueLength : 0;
      const waiting = queued === 0 ? "" : c.dim(` · ${queued} prompt${queued === 1 ? "" : "s"} queued`);
      return `${text}… ${c.dim(formatDuration(Date.now() - started))}${waiting}`;
    };
    const spinner = createSpinner(render(), { stream: this.terminal.stdout, color: "cyan", interval: 80 }).start();
    const ticker = setInterval(() => spinner.update({ text: render() }), 100);
    ticker.unref();
    this.phase = { text, started, spinner, ticker };
  }

  private endPhase(text: string, ok: boolean, silent = false): void {
    const phase = this.phase;
    if (!phase) return;
    this.phase = undefined;
    if (phase.ticker) clearInterval(phase.ticker);
    const elapsed = this.terminal.colors.dim(formatDuration(Date.now() - phase.started));
    if (phase.spinner) {
      if (silent) phase.spinner.clear().stop();
      else if (ok) phase.spinner.success({ text: `${text} ${elapsed}` });
      else phase.spinner.error({ text: `${text} ${elapsed}` });
    } else if (!silent) {
      this.above(`${text} (${formatDuration(Date.now() - phase.started)})`);
    }
  }

  /** A whole line, above the spinner if one is running. */
  private above(text: string): void {
    if (this.midLine) this.write("\n");
    this.phase?.spinner?.clear();
    this.terminal.line(text);
  }

  private write(text: string): void {
    this.terminal.stdout.write(text);
    this.midLine = !text.endsWith("\n");
  }
}
