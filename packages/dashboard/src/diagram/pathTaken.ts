import { selfAndAncestors, type MachineGraph } from "./machineGraph.js";

/**
 * The diagram edge (`from->to`) a session took when `event` moved it from state `before` to state
 * `after` (dotted paths, e.g. `reserving.attempting`): the transition on `before` or its nearest
 * ancestor that handles `event` and targets `after` or one of its parents. Null when the state did
 * not change, or when no drawn transition explains the move.
 *
 * @example
 * edgeTaken(machineGraph(), "ready", "streaming.active", "prompt.dispatching") // "ready->streaming"
 */
export function edgeTaken(graph: MachineGraph, before: string, after: string, event: string): string | null {
  if (before === after) return null;
  const targets = new Set(selfAndAncestors(after));
  for (const source of selfAndAncestors(before)) {
    const transition = graph.transitions.find((each) => each.from === source && each.event === event && targets.has(each.to));
    if (transition !== undefined) return `${transition.from}->${transition.to}`;
  }
  return null;
}
