import type { SessionEvent } from "@cloudsession/machine";
import { filter, map, pipe, scan, type OperatorFunction } from "rxjs";

/** The assistant's answer in one turn so far. */
export interface TurnText {
  /** 1 for the first turn that produced text, and so on. */
  readonly turn: number;
  readonly text: string;
  /** True once the turn went idle: `text` is final. */
  readonly done: boolean;
}

interface Accumulator {
  readonly turn: number;
  /** Whole `assistant.message`s of this turn: authoritative over the deltas that built them. */
  readonly messages: readonly string[];
  /** Deltas since the last whole message. */
  readonly streaming: string;
  readonly done: boolean;
  readonly emit: boolean;
}

const initial: Accumulator = {
  turn: 0,
  // Stryker disable ArrayDeclaration,StringLiteral: equivalent. A done accumulator is
  // never read as text (open() starts the first turn afresh), and scan never emits its seed.
  messages: [],
  streaming: "",
  // Stryker restore all
  done: true,
  // Stryker disable next-line BooleanLiteral: equivalent, scan never emits its seed.
  emit: false,
};

function textOf(acc: Accumulator): string {
  return [...acc.messages, ...(acc.streaming === "" ? [] : [acc.streaming])].join("\n\n");
}

function open(acc: Accumulator): Accumulator {
  // Stryker disable next-line BooleanLiteral: equivalent, both callers set `emit` on what this returns.
  return acc.done ? { turn: acc.turn + 1, messages: [], streaming: "", done: false, emit: false } : acc;
}

/**
 * Assembles the assistant's text per turn from machine events: deltas append, a whole
 * `assistant.message` settles what its deltas built (several messages in a turn read as
 * paragraphs), `turn.idle` closes the turn.
 *
 * ```
 * events: -d(He)-d(llo)-m(Hello)-i----------d(Bye)-|
 * result: -He----Hello--Hello----(Hello,done)-Bye---|
 * ```
 */
export function assembleText(): OperatorFunction<SessionEvent, TurnText> {
  return pipe(
    scan<SessionEvent, Accumulator>((acc, event) => {
      switch (event.type) {
        case "assistant.delta": {
          const turn = open(acc);
          return { ...turn, streaming: turn.streaming + event.text, emit: true };
        }
        case "assistant.message": {
          const turn = open(acc);
          return { ...turn, messages: [...turn.messages, event.text], streaming: "", emit: true };
        }
        case "turn.idle":
          return acc.done ? { ...acc, emit: false } : { ...acc, done: true, emit: true };
        default:
          return { ...acc, emit: false };
      }
    }, initial),
    filter((acc) => acc.emit),
    map((acc) => ({ turn: acc.turn, text: textOf(acc), done: acc.done })),
  );
}
