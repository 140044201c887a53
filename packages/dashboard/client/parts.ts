import type { SessionStateName } from "../src/protocol.js";
import { h } from "./dom.js";
import { STATE_LABELS } from "./format.js";

/** A state as a coloured badge; the text says it too, so colour is never the only cue. */
export function stateBadge(state: SessionStateName): HTMLElement {
  return h("span", { class: `badge state-${state}`, "data-state": state }, STATE_LABELS[state]);
}

export function sessionHref(id: string): string {
  return `#/sessions/${encodeURIComponent(id)}`;
}

/** A link to Mission Control, only for an https URL (the log is data, not trusted markup). */
export function missionControlLink(url: string | null, text = "open ↗"): HTMLElement | null {
  if (url === null) return null;
  try {
    if (new URL(url).protocol !== "https:") return null;
  } catch {
    return null;
  }
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "external", title: url }, text);
}
