import { Observable } from "rxjs";
import type { RawSessionEvent, SessionEventSource } from "./rawSessionEvent.js";

/**
 * The raw events of an SDK session as an Observable. Subscribing calls `session.on(handler)`;
 * unsubscribing calls the function it returned. Each subscriber gets its own SDK subscription, so
 * subscribe (or `share()`) before the first event can arrive.
 *
 * @example
 * const events$ = fromSdkSession(session);
 * const subscription = events$.subscribe((event) => console.log(event.type));
 * subscription.unsubscribe();
 */
export function fromSdkSession<E extends RawSessionEvent>(session: SessionEventSource<E>): Observable<E> {
  return new Observable<E>((subscriber) => session.on((event) => subscriber.next(event)));
}
