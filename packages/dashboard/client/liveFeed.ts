import type { FeedMessage } from "../src/protocol.js";
import { api } from "./api.js";
import type { SessionList } from "./sessionList.js";

export type FeedStatus = "connecting" | "live" | "reconnecting";

/**
 * Follows the server's live feed (Server-Sent Events, same origin) into `list`. The browser
 * reconnects by itself; each connection starts with the whole list.
 */
export function followFeed(list: SessionList, onStatus: (status: FeedStatus) => void): () => void {
  const source = new EventSource(api.feedUrl());
  onStatus("connecting");
  source.onopen = () => {
    performance.mark("cloudsession:feed-open");
    onStatus("live");
  };
  source.onerror = () => onStatus("reconnecting");
  let first = true;
  let complete = false;
  source.onmessage = (event: MessageEvent<string>) => {
    // Marks for the load check: the first part of the list received and taken in, then all of it.
    if (first) performance.mark("cloudsession:list-received");
    list.apply(JSON.parse(event.data) as FeedMessage);
    if (first) performance.mark("cloudsession:list-applied");
    if (!complete && list.loaded) performance.mark("cloudsession:list-complete");
    first = false;
    complete ||= list.loaded;
  };
  return () => source.close();
}
