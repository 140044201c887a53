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
  source.onopen = () => onStatus("live");
  source.onerror = () => onStatus("reconnecting");
  source.onmessage = (event: MessageEvent<string>) => {
    list.apply(JSON.parse(event.data) as FeedMessage);
  };
  return () => source.close();
}
