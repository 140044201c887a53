import { lifecycleState, type LifecycleState, type SessionSnapshot } from "@cloudsession/machine";
import { distinctUntilChanged, map, pipe, type OperatorFunction } from "rxjs";

/**
 * The lifecycle state of each snapshot, emitted only when it changes.
 *
 * ```
 * snapshots: -r-r-a-a-R-S-R-c-|
 * result:    -r---a---R-S-R-c-|
 * ```
 */
export function selectLifecycleState(): OperatorFunction<SessionSnapshot, LifecycleState> {
  return pipe(map(lifecycleState), distinctUntilChanged());
}
