import type { SessionSnapshot } from "@cloudsession/machine";
import { distinctUntilChanged, filter, map, pipe, type OperatorFunction } from "rxjs";

/**
 * The Mission Control URL once it is known (it is published once, so this emits at most once
 * per session; a session restored from its log emits it at once).
 */
export function selectRemoteUrl(): OperatorFunction<SessionSnapshot, string> {
  return pipe(
    map((snapshot) => snapshot.context.remoteUrl),
    filter((url): url is string => url !== null),
    distinctUntilChanged(),
  );
}
