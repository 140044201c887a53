import type { SessionSnapshot } from "@cloudsession/machine";
import { Observable } from "rxjs";

/** What `snapshots()` needs from an actor: XState actors have exactly this shape. */
export interface SnapshotSource {
  getSnapshot(): SessionSnapshot;
  subscribe(observer: { next: (snapshot: SessionSnapshot) => void; error?: (error: unknown) => void; complete?: () => void }): { unsubscribe(): void };
}

/**
 * A session actor's snapshots: the current one at once, then every change; completes when the
 * session reaches a final state.
 */
export function snapshots(actor: SnapshotSource): Observable<SessionSnapshot> {
  return new Observable<SessionSnapshot>((subscriber) => {
    const current = actor.getSnapshot();
    subscriber.next(current);
    if (current.status !== "active") {
      subscriber.complete();
      return undefined;
    }
    const subscription = actor.subscribe({
      next: (snapshot) => {
        subscriber.next(snapshot);
        if (snapshot.status !== "active") subscriber.complete();
      },
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    return () => subscription.unsubscribe();
  });
}
