import type { SessionDetail, SessionSummary } from "../src/protocol.js";
import { h } from "./dom.js";
import { clock, offset, outcomeLine, promptCounts } from "./format.js";
import { missionControlLink, stateBadge } from "./parts.js";

/** The session's heading: repository, state, ids, Mission Control, times. */
export function headerPanel(detail: SessionDetail): HTMLElement {
  const summary = detail.summary;
  const field = (name: string, value: Node | string) => [h("dt", {}, name), h("dd", {}, value)];
  return h(
    "header",
    { class: "panel session-head" },
    h("h1", { id: "session-title" }, summary.repository, " ", stateBadge(summary.state)),
    h(
      "dl",
      { class: "fields" },
      ...field("session", h("code", {}, summary.id)),
      ...field("state", h("code", { class: "state-path" }, summary.statePath)),
      ...field("SDK session", detail.sdkSessionId === null ? h("span", { class: "muted" }, "none yet") : h("code", {}, detail.sdkSessionId)),
      ...field("Mission Control", missionControlLink(summary.remoteUrl, summary.remoteUrl ?? "") ?? h("span", { class: "muted" }, "not published")),
      ...field("requested", clock(summary.createdAt)),
      ...field("prompts", promptCounts(summary.prompts)),
      ...field("engine", summary.running ? "running here: actions available" : summary.final ? "ended" : "not running here"),
    ),
  );
}

/** Why the session ended (or cannot be read); nothing while it is live and well. */
export function outcomePanel(summary: SessionSummary): HTMLElement | null {
  const line = outcomeLine(summary);
  if (line === null) return null;
  const tone = summary.state === "closed" && summary.damaged === null ? "info" : "problem";
  const body =
    summary.failure === null
      ? h("p", {}, line)
      : h(
          "dl",
          { class: "fields" },
          h("dt", {}, "phase"),
          h("dd", {}, summary.failure.phase),
          h("dt", {}, "reason"),
          h("dd", { class: "failure-reason" }, summary.failure.reason),
          h("dt", {}, "message"),
          h("dd", {}, summary.failure.message),
        );
  return h("section", { class: `panel outcome ${tone}`, "aria-labelledby": "outcome-title" }, h("h2", { id: "outcome-title" }, summary.failure === null ? "Outcome" : `${summary.state} while ${summary.failure.phase}`), body);
}

/** Every prompt with its status, its answer and why it was not delivered. */
export function promptsPanel(detail: SessionDetail): HTMLElement {
  const items = detail.prompts.map((prompt, index) =>
    h(
      "li",
      { class: `prompt status-${prompt.status}`, "data-prompt": prompt.id },
      h("div", { class: "prompt-head" }, h("span", { class: "prompt-number" }, `#${index + 1}`), h("span", { class: `badge prompt-status status-${prompt.status}` }, prompt.status), prompt.reason === null ? null : h("span", { class: "muted" }, `(${prompt.reason})`)),
      h("p", { class: "prompt-text" }, prompt.text),
      prompt.reply === null ? null : h("div", { class: "reply", "aria-label": "answer" }, prompt.reply),
    ),
  );
  return h(
    "section",
    { class: "panel prompts", "aria-labelledby": "prompts-title" },
    h("h2", { id: "prompts-title" }, `Prompts (${detail.prompts.length})`),
    items.length === 0 ? h("p", { class: "muted" }, "No prompts yet.") : h("ol", { class: "prompt-list" }, ...items),
  );
}

/** The recorded events; the replay's step is marked, and each row jumps the replay there. */
export function timelinePanel(detail: SessionDetail, step: number, onPick: (index: number) => void): HTMLElement {
  const start = detail.timeline[0]?.at ?? 0;
  const rows = detail.timeline.map((entry, index) =>
    h(
      "tr",
      { class: index === step ? "current" : undefined, "aria-current": index === step ? "step" : undefined, "data-version": String(entry.version) },
      h("td", {}, h("button", { type: "button", class: "link", title: "replay to here", onclick: () => onPick(index) }, String(entry.version))),
      h("td", { class: "num", title: clock(entry.at) }, offset(entry.at - start)),
      h("td", {}, h("code", {}, entry.type)),
      h("td", { class: "detail" }, entry.detail),
    ),
  );
  return h(
    "section",
    { class: "panel timeline", "aria-labelledby": "timeline-title" },
    h("h2", { id: "timeline-title" }, `Timeline (${detail.timeline.length} events)`),
    h("div", { class: "table-scroll" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "#"), h("th", { scope: "col" }, "time"), h("th", { scope: "col" }, "event"), h("th", { scope: "col" }, "data"))), h("tbody", {}, ...rows))),
  );
}
