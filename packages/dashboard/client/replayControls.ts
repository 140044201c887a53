import type { ReplayStep } from "../src/protocol.js";
import { h } from "./dom.js";
import { offset } from "./format.js";

/**
 * Step-through replay: the log fed through the machine one event at a time (the server did the
 * feeding); each step shows the event and the state after it, and moves the diagram and the
 * timeline with it. At the last step it follows the live session.
 */
export function replayControls(onStep: (index: number) => void): { element: HTMLElement; update(steps: readonly ReplayStep[], index: number, start: number): void } {
  let count = 0;
  let current = 0;
  const go = (index: number): void => onStep(Math.min(count - 1, Math.max(0, index)));
  const button = (label: string, title: string, target: () => number) => h("button", { type: "button", title, onclick: () => go(target()) }, label);
  const first = button("First", "the first step: the request", () => 0);
  const previous = button("◀ Back", "the step before", () => current - 1);
  const next = button("Next ▶", "the step after", () => current + 1);
  const last = button("Latest", "the last step, following the live session", () => count - 1);
  const slider = h("input", { type: "range", min: "0", max: "0", value: "0", id: "replay-step", "aria-label": "replay step", oninput: () => go(Number(slider.value)) });
  const caption = h("p", { class: "replay-caption", "aria-live": "polite" });
  const element = h(
    "div",
    { class: "replay", role: "group", "aria-label": "Step-through replay" },
    h("div", { class: "replay-controls" }, h("span", { class: "replay-title" }, "Replay"), first, previous, slider, next, last),
    caption,
  );
  return {
    element,
    update(steps, index, start) {
      count = steps.length;
      current = index;
      slider.max = String(Math.max(0, count - 1));
      slider.value = String(index);
      first.disabled = previous.disabled = index <= 0;
      next.disabled = last.disabled = index >= count - 1;
      const step = steps[index];
      const before = steps[index - 1];
      caption.textContent =
        step === undefined
          ? ""
          : `Step ${index + 1} of ${count} (${offset(step.at - start)}): ${step.event} → ${step.state}${before !== undefined && before.state === step.state ? " (state unchanged)" : ""}${index === count - 1 ? " · latest" : ""}`;
    },
  };
}
