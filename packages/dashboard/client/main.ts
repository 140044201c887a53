import type { DiagramModel } from "../src/protocol.js";
import { api } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { followFeed, type FeedStatus } from "./liveFeed.js";
import { listView, type ListState } from "./listView.js";
import { SessionList } from "./sessionList.js";
import { sessionView } from "./sessionView.js";

// The page: one live feed for the whole visit, two views chosen by the URL's hash (`#/`,
// `#/sessions/<id>`), so every view is a link and Back works, wherever the dashboard is mounted.
performance.mark("cloudsession:page-start");
const list = new SessionList();
const listState: ListState = { filter: "all", search: "", scrollTop: 0 };
let machine: Promise<DiagramModel> | undefined;

const status = h("span", { class: "feed-status", role: "status", "data-status": "connecting" }, "connecting…");
const main = h("main", { id: "main", tabindex: "-1" });
const app = document.getElementById("app") ?? document.body;
replaceChildren(
  app,
  // Not a plain #main link: the hash is the router's.
  h("a", { href: "#/", class: "skip", onclick: (event) => { event.preventDefault(); main.focus(); } }, "Skip to content"),
  h("header", { class: "top" }, h("a", { href: "#/", class: "brand" }, "cloudsession"), h("span", { class: "muted" }, "sessions dashboard"), status),
  main,
);

const labels: Record<FeedStatus, string> = { connecting: "connecting…", live: "● live", reconnecting: "reconnecting…" };
followFeed(list, (feed) => {
  status.dataset["status"] = feed;
  status.textContent = labels[feed];
});

let current: { dispose(): void } | undefined;
function route(): void {
  current?.dispose();
  const match = /^#\/sessions\/(.+)$/.exec(location.hash);
  if (match?.[1] !== undefined) {
    app.dataset["view"] = "session";
    const view = sessionView(decodeURIComponent(match[1]), list, (machine ??= api.machine()));
    current = view;
    replaceChildren(main, view.element);
    main.focus({ preventScroll: true });
  } else {
    document.title = "Sessions · cloudsession";
    // The list fills the window and scrolls inside; a session's page scrolls as a whole.
    app.dataset["view"] = "list";
    const view = listView(list, listState);
    current = view;
    replaceChildren(main, view.element);
  }
}
window.addEventListener("hashchange", route);
route();
