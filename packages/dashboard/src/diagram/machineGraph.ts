import { sessionMachine } from "@cloudsession/machine";

/** The structural view of a state node this reader needs (XState's `StateNode` has it). */
export interface StateNodeLike {
  readonly id: string;
  readonly key: string;
  readonly type: string;
  readonly states: Readonly<Record<string, StateNodeLike>>;
  readonly initial: { readonly target: readonly StateNodeLike[] } | undefined;
  readonly transitions: ReadonlyMap<string, readonly { readonly target?: readonly StateNodeLike[] | undefined; readonly guard?: unknown }[]>;
}

/** A state of the machine. Ids are dotted paths below the root: `reserving.attempting`. */
export interface MachineState {
  readonly id: string;
  readonly label: string;
  readonly parent: string | null;
  readonly kind: "atomic" | "compound" | "final";
  /** The state its parent (or the machine) starts in. */
  readonly initial: boolean;
}

/** One transition that changes state; context-only handlers (no target) are left out. */
export interface MachineTransition {
  readonly from: string;
  readonly to: string;
  readonly event: string;
  readonly guard: string | undefined;
}

/** The states and state-changing transitions of a machine, in definition order. */
export interface MachineGraph {
  readonly states: readonly MachineState[];
  readonly transitions: readonly MachineTransition[];
}

/**
 * `isDue(reservation)`, `isNewPrompt`, `hasAttemptsLeft`… The same labels docs/lifecycle.md shows
 * (test/machineGraph.test.ts compares the two).
 */
export function guardLabel(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === "string") return guard;
  if (typeof guard === "function") {
    const composite = guard as { name?: string; guards?: readonly unknown[] };
    if (Array.isArray(composite.guards)) {
      const parts = composite.guards.map((part) => guardLabel(part) ?? "?");
      if (composite.name === "not") return `not ${parts.join("")}`;
      return parts.join(composite.name === "or" ? " or " : " and ");
    }
    return composite.name ?? "guard";
  }
  if (typeof guard === "object") {
    const { type, params } = guard as { type?: unknown; params?: unknown };
    if (typeof type !== "string") return "guard";
    return params === undefined ? type : `${type}(${typeof params === "string" ? params : JSON.stringify(params)})`;
  }
  return "guard";
}

/**
 * Reads the lifecycle machine's definition: every state and every transition that changes state.
 * Handlers on the machine's root apply in every live state and are listed from each top-level live
 * state, as docs/lifecycle.md draws them.
 *
 * @example
 * const graph = machineGraph();
 * graph.states.find((state) => state.id === "reserving")?.kind; // "compound"
 */
export function machineGraph(root: StateNodeLike = sessionMachine.root): MachineGraph {
  const idOf = (node: StateNodeLike): string => node.id.slice(root.id.length + 1);
  const states: MachineState[] = [];
  const transitions: MachineTransition[] = [];
  const declare = (node: StateNodeLike, parent: string | null): void => {
    const initial = node.initial?.target[0];
    for (const child of Object.values(node.states)) {
      const kind = child.type === "final" ? "final" : Object.keys(child.states).length > 0 ? "compound" : "atomic";
      states.push({ id: idOf(child), label: child.key, parent, kind, initial: child === initial });
      declare(child, idOf(child));
    }
  };
  declare(root, null);

  const add = (from: StateNodeLike, event: string, transition: { readonly target?: readonly StateNodeLike[] | undefined; readonly guard?: unknown }): void => {
    for (const target of transition.target ?? []) transitions.push({ from: idOf(from), to: idOf(target), event, guard: guardLabel(transition.guard) });
  };
  const walk = (node: StateNodeLike): void => {
    for (const child of Object.values(node.states)) {
      for (const [event, list] of child.transitions) for (const transition of list) add(child, event, transition);
      walk(child);
    }
  };
  walk(root);
  const liveTopLevel = Object.values(root.states).filter((state) => state.type !== "final");
  for (const [event, list] of root.transitions) {
    for (const transition of list) for (const state of liveTopLevel) add(state, event, transition);
  }
  return { states, transitions };
}

/** `reserving.attempting` → [`reserving.attempting`, `reserving`]: a state and its ancestors, innermost first. */
export function selfAndAncestors(statePath: string): string[] {
  const parts = statePath.split(".");
  return parts.map((_, index) => parts.slice(0, parts.length - index).join("."));
}
