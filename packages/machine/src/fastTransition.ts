import type { AnyStateNode, StateValue } from "xstate";
import type { SessionContext } from "./context.js";
import { contextUpdates, type ContextUpdate } from "./contextUpdates.js";
import type { SessionEvent } from "./events.js";
import type { SessionSnapshot } from "./sessionSnapshot.js";
import { initialContext, sessionMachine, sessionOutcome, type SessionInput } from "./sessionMachine.js";

/**
 * The session machine's transitions, compiled once from the machine itself into a table: for each
 * leaf state and event type, the candidate transitions in XState's order (the leaf's own first,
 * then its ancestors'), each with its guard (the machine's own), its context updates (the ones
 * its `assign` actions call) and the state it leads to.
 *
 * Why: XState's generic `transition()` walks state nodes, builds exit and entry sets and resolves
 * actions for every event; that was over half of an engine's CPU per recorded event (13-36 µs in
 * place). A table lookup, a guard and a few object spreads give the same snapshot. XState stays the
 * definition and the judge: whatever the table cannot decide (a guard or action it does not know,
 * entry or exit actions outside the final states, eventless or delayed transitions) returns
 * `undefined` and the caller asks XState, and a property test holds the two equal.
 */

type Update = (context: SessionContext, event: SessionEvent) => Partial<SessionContext>;

interface Route {
  readonly guard: ((context: SessionContext, event: SessionEvent) => boolean) | undefined;
  readonly updates: readonly Update[];
  /** A snapshot of the state this transition enters (its value and nodes); none when targetless. */
  readonly target: SessionSnapshot | undefined;
  /** The target is a final state of the machine: the session is done, with the machine's output. */
  readonly final: boolean;
}

/** A candidate only XState can settle. */
const ASK_XSTATE = "ask-xstate";
type Candidate = Route | typeof ASK_XSTATE;

/** Leaf state path ("streaming.active") → event type → candidates in order. */
type Table = ReadonlyMap<string, ReadonlyMap<string, readonly Candidate[]>>;

let table: Table | null | undefined;

/**
 * The snapshot `event` leads to from `snapshot`, as XState's `transition()` would give it, or
 * `undefined` when only XState can tell.
 */
export function fastTransition(snapshot: SessionSnapshot, event: SessionEvent): SessionSnapshot | undefined {
  table ??= compile();
  if (table === null || snapshot.status !== "active") return undefined;
  const leaf = leafPath(snapshot.value);
  const candidates = leaf === undefined ? undefined : table.get(leaf);
  if (candidates === undefined) return undefined;
  for (const candidate of candidates.get(event.type) ?? []) {
    if (candidate === ASK_XSTATE) return undefined;
    if (candidate.guard !== undefined && !candidate.guard(snapshot.context, event)) continue;
    let context = snapshot.context;
    // As XState applies a transition's assignments: in order, each seeing the one before.
    for (const update of candidate.updates) context = { ...context, ...update(context, event) };
    if (candidate.final) return { ...(candidate.target ?? snapshot), context, status: "done", output: sessionOutcome(context) } as SessionSnapshot;
    return { ...(candidate.target ?? snapshot), context };
  }
  // No transition is enabled: XState leaves the snapshot as it is.
  return snapshot;
}

let initialTemplate: SessionSnapshot | null | undefined;

/** The machine's initial snapshot for `input`, without XState's initial macrostep; `undefined` when only XState can tell. */
export function fastInitialSnapshot(input: SessionInput): SessionSnapshot | undefined {
  if (initialTemplate === undefined) {
    table ??= compile();
    const leaf = initialLeaf(sessionMachine.root);
    initialTemplate = table === null || leaf.type !== "atomic" ? null : templateOf(leaf);
  }
  return initialTemplate === null ? undefined : ({ ...initialTemplate, context: initialContext(input) });
}

/**
 * Drops the compiled table, so that the next transition compiles it again. Not exported from the
 * package: mutation testing calls it before every test (test/mutation.setup.ts), since a table
 * compiled once per test file ties the code that builds it to that file's first test only.
 */
export function forgetCompiledTransitions(): void {
  table = undefined;
  initialTemplate = undefined;
  templates.clear();
}

/** Builds the table, or `null` when the machine uses something the table does not model. */
function compile(): Table | null {
  const nodes = allNodes(sessionMachine.root);
  // Only assignments and guards are modelled: entry or exit actions, eventless, delayed or invoked
  // transitions, parallel or history states anywhere short of a final state need XState.
  for (const node of nodes) {
    if (node.type === "final") continue;
    if (node.type === "parallel" || node.type === "history") return null;
    if (node.entry.length > 0 || node.exit.length > 0 || (node.always?.length ?? 0) > 0 || node.after.length > 0 || node.invoke.length > 0) return null;
    if (node.type === "compound" && node.initial.actions.length > 0) return null;
  }
  const compiled = new Map<string, Map<string, Candidate[]>>();
  for (const leaf of nodes) {
    if (leaf.type !== "atomic") continue;
    const byEvent = new Map<string, Candidate[]>();
    for (let node: AnyStateNode | undefined = leaf; node !== undefined; node = node.parent) {
      for (const [eventType, transitions] of node.transitions) {
        // Wildcard descriptors ("prompt.*") are matched by XState's own rules.
        if (eventType.includes("*")) return null;
        const candidates = byEvent.get(eventType) ?? [];
        for (const transition of transitions) candidates.push(compileTransition(leaf, transition));
        byEvent.set(eventType, candidates);
      }
    }
    compiled.set(leaf.path.join("."), byEvent);
  }
  return compiled;
}

type Transition = AnyStateNode["transitions"] extends Map<string, (infer T)[]> ? T : never;

function compileTransition(leaf: AnyStateNode, transition: Transition): Candidate {
  const guard = compileGuard(transition.guard);
  if (guard === ASK_XSTATE) return ASK_XSTATE;
  const updates: Update[] = [];
  for (const action of transition.actions) {
    const update = compileAction(action);
    if (update === undefined) return ASK_XSTATE;
    updates.push(update);
  }
  const targets = transition.target ?? [];
  const [target] = targets;
  if (target === undefined) return { guard, updates, target: undefined, final: false };
  // Several targets, or one at or above the leaf (exit and re-entry rules): XState's business.
  if (targets.length > 1 || isAncestorOrSelf(target, leaf)) return ASK_XSTATE;
  const entered = initialLeaf(target);
  if (entered.type === "atomic") return { guard, updates, target: templateOf(entered), final: false };
  // A final state of the machine (not of a nested state, which raises a done event) runs its entry
  // actions after the transition's, and the machine is done with its output.
  if (entered.type !== "final" || entered.parent !== sessionMachine.root || sessionMachine.root.output === undefined) return ASK_XSTATE;
  for (const action of entered.entry) {
    const update = compileAction(action);
    if (update === undefined) return ASK_XSTATE;
    updates.push(update);
  }
  return { guard, updates, target: templateOf(entered), final: true };
}

function compileGuard(guard: Transition["guard"]): Route["guard"] | typeof ASK_XSTATE {
  if (guard === undefined) return undefined;
  if (typeof guard === "function") return ASK_XSTATE;
  const type = typeof guard === "string" ? guard : guard.type;
  const params: unknown = typeof guard === "string" ? undefined : guard.params;
  const implementations = sessionMachine.implementations.guards as Record<string, unknown>;
  const implementation = implementations[type];
  // Built-in guards (stateIn, and, not, …) carry a `check` and read the snapshot: not modelled.
  if (typeof implementation !== "function" || "check" in implementation || typeof params === "function") return ASK_XSTATE;
  const check = implementation as (args: { context: SessionContext; event: SessionEvent }, params: unknown) => boolean;
  return (context, event) => check({ context, event }, params);
}

/** Typed `unknown` on purpose: XState's action items (names, objects, inline functions) are checked here at run time. */
function compileAction(action: unknown): Update | undefined {
  const type = typeof action === "string" ? action : typeof action === "object" && action !== null && "type" in action ? action.type : undefined;
  if (typeof type !== "string" || !Object.hasOwn(contextUpdates, type)) return undefined;
  const params: unknown = typeof action === "object" && action !== null && "params" in action ? action.params : undefined;
  if (typeof params === "function") return undefined;
  const update = contextUpdates[type as keyof typeof contextUpdates] as ContextUpdate<unknown>;
  return (context, event) => update(context, event, params);
}

const templates = new Map<AnyStateNode, SessionSnapshot>();

/** A snapshot of `leaf` as XState builds it (value, nodes, tags); callers put their own context in. */
function templateOf(leaf: AnyStateNode): SessionSnapshot {
  let template = templates.get(leaf);
  if (template === undefined) {
    template = sessionMachine.resolveState({ value: valueOf(leaf.path), context: {} as SessionContext });
    templates.set(leaf, template);
  }
  return template;
}

function initialLeaf(node: AnyStateNode): AnyStateNode {
  let leaf = node;
  while (leaf.type === "compound") {
    const next = leaf.initial.target[0];
    if (next === undefined) break;
    leaf = next;
  }
  return leaf;
}

function isAncestorOrSelf(node: AnyStateNode, of: AnyStateNode): boolean {
  for (let current: AnyStateNode | undefined = of; current !== undefined; current = current.parent) if (current === node) return true;
  return false;
}

function allNodes(root: AnyStateNode): AnyStateNode[] {
  const nodes: AnyStateNode[] = [root];
  for (const child of Object.values(root.states) as AnyStateNode[]) nodes.push(...allNodes(child));
  return nodes;
}

const leafPaths = new WeakMap<object, string | undefined>();

/**
 * {@link leafPathOf}, remembered per value object: snapshots the table made share their target
 * template's value, so after the first event in a state this is one lookup, not a string built.
 */
function leafPath(value: StateValue): string | undefined {
  if (typeof value === "string") return value;
  if (leafPaths.has(value)) return leafPaths.get(value);
  const path = leafPathOf(value);
  leafPaths.set(value, path);
  return path;
}

/** "ready" → "ready"; { streaming: "active" } → "streaming.active"; `undefined` for a parallel value. */
function leafPathOf(value: StateValue): string | undefined {
  let path = "";
  let current: StateValue | undefined = value;
  while (typeof current === "object") {
    let only: string | undefined;
    for (const key in current) {
      if (only !== undefined) return undefined;
      only = key;
    }
    if (only === undefined) return undefined;
    path = path === "" ? only : `${path}.${only}`;
    current = current[only];
  }
  if (typeof current !== "string") return undefined;
  return path === "" ? current : `${path}.${current}`;
}

function valueOf(path: readonly string[]): StateValue {
  const [first, ...rest] = path;
  if (first === undefined) return {};
  return rest.length === 0 ? first : { [first]: valueOf(rest) };
}
