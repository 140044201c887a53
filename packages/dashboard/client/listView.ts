import type { SessionSummary } from "../src/protocol.js";
import { h, replaceChildren } from "./dom.js";
import { FILTERS, STATE_LABELS, age, matchesFilter, outcomeLine, promptCounts, searchMatcher, visibleRange, type Filter } from "./format.js";
import { missionControlLink, sessionHref, stateBadge } from "./parts.js";
import type { SessionList } from "./sessionList.js";

const ROW_HEIGHT = 44;
const OVERSCAN = 6;
const FILTER_LABELS: Readonly<Record<Filter, string>> = { all: "All", open: "Open", failed: "Failed", blocked: "Blocked", closed: "Closed" };

/** What the list remembers across visits: the filter, the search and where it was scrolled. */
export interface ListState {
  filter: Filter;
  search: string;
  scrollTop: number;
}

/**
 * The sessions list: filters with counts, a search, and a table that draws only the rows on
 * screen (10,000 sessions cost what 30 do). Redraws at most once a frame, whatever the feed sends.
 * Arrow keys, Page Up/Down, Home and End move between rows; Enter opens one.
 */
export function listView(list: SessionList, state: ListState): { element: HTMLElement; dispose(): void } {
  let shown: readonly SessionSummary[] = [];
  let frame = 0;
  let firstDrawn = false;

  const counts = new Map<Filter, HTMLElement>(FILTERS.map((filter) => [filter, h("span", { class: "count" }, "0")]));
  const buttons = FILTERS.map((filter) =>
    h(
      "button",
      { type: "button", class: "filter", "data-filter": filter, "aria-pressed": String(filter === state.filter), onclick: () => setFilter(filter) },
      FILTER_LABELS[filter],
      " ",
      counts.get(filter) ?? null,
    ),
  );
  const search = h("input", {
    type: "search",
    id: "session-search",
    placeholder: "id or owner/name",
    value: state.search,
    autocomplete: "off",
    oninput: () => {
      state.search = search.value;
      schedule(true);
    },
  });
  const summary = h("p", { class: "list-summary", "aria-live": "polite" });
  const stalled = h("p", { class: "banner warning", role: "alert", hidden: true });
  const spacer = h("div", { class: "spacer" });
  const viewport = h("div", { class: "viewport", role: "rowgroup", tabindex: "-1", onscroll: () => schedule(false), onkeydown: (event) => onKey(event as KeyboardEvent) }, spacer);
  const table = h(
    "div",
    { class: "sessions", role: "table", "aria-label": "Sessions", "aria-rowcount": "1" },
    h(
      "div",
      { class: "row header", role: "row", "aria-rowindex": "1" },
      ...["State", "Session", "Age", "Prompts", "Mission Control"].map((title, index) => h("span", { role: "columnheader", class: `c${index}` }, title)),
    ),
    viewport,
  );
  const empty = h("p", { class: "empty", hidden: true }, "No sessions match.");
  const element = h(
    "section",
    { class: "list-view", "aria-labelledby": "list-title" },
    h("div", { class: "list-head" }, h("h1", { id: "list-title" }, "Sessions"), summary),
    stalled,
    h("div", { class: "toolbar" }, h("div", { class: "filters", role: "group", "aria-label": "Show sessions" }, ...buttons), h("label", { class: "search", for: "session-search" }, "Search ", search)),
    table,
    empty,
  );

  function setFilter(filter: Filter): void {
    state.filter = filter;
    for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset["filter"] === filter));
    viewport.scrollTop = 0;
    schedule(true);
  }

  let refilter = true;
  function schedule(filterAgain: boolean): void {
    refilter ||= filterAgain;
    if (frame === 0) frame = requestAnimationFrame(draw);
  }

  function draw(): void {
    const started = performance.now();
    frame = 0;
    if (refilter) {
      refilter = false;
      const all = list.all();
      const tally: Record<Filter, number> = { all: 0, open: 0, failed: 0, blocked: 0, closed: 0 };
      const matching: SessionSummary[] = [];
      const search = searchMatcher(state.search);
      for (const session of all) {
        if (search !== undefined && !search(session)) continue;
        tally.all += 1;
        if (!session.final) tally.open += 1;
        else if (session.state === "failed" || session.state === "blocked" || session.state === "closed") tally[session.state] += 1;
        if (matchesFilter(session, state.filter)) matching.push(session);
      }
      shown = matching;
      for (const filter of FILTERS) counts.get(filter)?.replaceChildren(String(tally[filter]));
      summary.textContent = list.loaded ? `${all.length.toLocaleString("en")} sessions in the store; ${shown.length.toLocaleString("en")} shown` : list.started ? "loading the older sessions…" : "loading…";
      spacer.style.height = `${shown.length * ROW_HEIGHT}px`;
      table.setAttribute("aria-rowcount", String(shown.length + 1));
      empty.hidden = !list.loaded || shown.length > 0;
      stalled.hidden = list.stalled === null;
      stalled.textContent = list.stalled === null ? "" : `Live updates stopped: ${list.stalled}`;
    }
    drawRows();
    if (!firstDrawn && list.started) {
      firstDrawn = true;
      performance.mark("cloudsession:list-drawn");
      performance.measure("cloudsession:list-draw", { start: started });
    }
  }

  function drawRows(): void {
    const focusedId = (document.activeElement?.closest("[data-session]") as HTMLElement | null)?.dataset["session"];
    // Never more than two screens of rows, even if a style sheet let the viewport grow with its content.
    const height = Math.min(viewport.clientHeight || 600, 2 * window.innerHeight);
    const { start, end } = visibleRange({ scrollTop: viewport.scrollTop, viewport: height, rowHeight: ROW_HEIGHT, count: shown.length, overscan: OVERSCAN });
    const now = Date.now();
    const rows: HTMLElement[] = [];
    for (let index = start; index < end; index += 1) {
      const session = shown[index];
      if (session !== undefined) rows.push(row(session, index, now));
    }
    replaceChildren(spacer, ...rows);
    if (focusedId !== undefined) spacer.querySelector<HTMLElement>(`[data-session="${CSS.escape(focusedId)}"] a.session-link`)?.focus({ preventScroll: true });
  }

  function row(session: SessionSummary, index: number, now: number): HTMLElement {
    const outcome = outcomeLine(session);
    const element = h(
      "div",
      { class: `row state-${session.state}`, role: "row", "aria-rowindex": String(index + 2), "data-session": session.id, "data-state": session.state },
      h("span", { role: "cell", class: "c0" }, stateBadge(session.state), session.failure === null ? null : h("span", { class: "reason" }, session.failure.reason)),
      h(
        "span",
        { role: "cell", class: "c1" },
        h("a", { class: "session-link", href: sessionHref(session.id), title: outcome ?? session.repository }, session.repository),
        h("span", { class: "session-id" }, session.id),
      ),
      h("span", { role: "cell", class: "c2", title: new Date(session.createdAt).toISOString() }, age(now - session.createdAt)),
      h("span", { role: "cell", class: "c3", title: promptCounts(session.prompts) }, promptCell(session)),
      h("span", { role: "cell", class: "c4" }, missionControlLink(session.remoteUrl) ?? h("span", { class: "muted" }, "—")),
    );
    element.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
    element.setAttribute("aria-label", `${session.repository}, ${STATE_LABELS[session.state]}${outcome === null ? "" : `: ${outcome}`}`);
    return element;
  }

  function onKey(event: KeyboardEvent): void {
    const current = (document.activeElement?.closest("[data-session]") as HTMLElement | null)?.dataset["session"];
    const index = current === undefined ? -1 : shown.findIndex((session) => session.id === current);
    const page = Math.max(1, Math.floor(viewport.clientHeight / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: index + 1, ArrowUp: index - 1, PageDown: index + page, PageUp: index - page, Home: 0, End: shown.length - 1 };
    const target = moves[event.key];
    if (target === undefined || shown.length === 0) return;
    event.preventDefault();
    const next = Math.min(shown.length - 1, Math.max(0, target));
    const top = next * ROW_HEIGHT;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW_HEIGHT - viewport.clientHeight;
    drawRows();
    const id = shown[next]?.id;
    if (id !== undefined) spacer.querySelector<HTMLElement>(`[data-session="${CSS.escape(id)}"] a.session-link`)?.focus({ preventScroll: true });
  }

  const unsubscribe = list.subscribe(() => schedule(true));
  // Ages move on without any event.
  const ticker = window.setInterval(() => schedule(false), 10_000);
  requestAnimationFrame(() => {
    viewport.scrollTop = state.scrollTop;
    schedule(true);
  });
  return {
    element,
    dispose() {
      state.scrollTop = viewport.scrollTop;
      unsubscribe();
      window.clearInterval(ticker);
      cancelAnimationFrame(frame);
    },
  };
}

function promptCell(session: SessionSummary): HTMLElement {
  const { delivered, queued, undelivered } = session.prompts;
  return h(
    "span",
    { class: "prompt-counts" },
    h("span", { class: "delivered", "aria-label": `${delivered} delivered` }, `✓ ${delivered}`),
    h("span", { class: queued > 0 ? "queued" : "queued zero", "aria-label": `${queued} queued` }, `◷ ${queued}`),
    h("span", { class: undelivered > 0 ? "undelivered" : "undelivered zero", "aria-label": `${undelivered} undelivered` }, `✗ ${undelivered}`),
  );
}
