/** A state value as XState gives it: a name, or nested names for a state inside a parent. */
export type StateValue = string | { readonly [key: string]: StateValue | undefined };

/**
 * `reserving.attempting` for `{ reserving: "attempting" }`: a snapshot's state as one dotted path,
 * the ids the diagram uses.
 *
 * @example
 * statePath({ streaming: "active" }) // "streaming.active"
 */
export function statePath(value: StateValue): string {
  if (typeof value === "string") return value;
  return Object.entries(value)
    .map(([key, child]) => (child === undefined ? key : `${key}.${statePath(child)}`))
    .join(",");
}
