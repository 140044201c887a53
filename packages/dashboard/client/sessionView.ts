import type { DiagramModel, SessionDetail } from "../src/protocol.js";
import { actionsPanel } from "./actionsPanel.js";
import { ApiRefusal, api } from "./api.js";
import { drawDiagram, type DiagramView } from "./diagramView.js";
import { h, replaceChildren } from "./dom.js";
import { STATE_LABELS } from "./format.js";
import { replayControls } from "./replayControls.js";
import { headerPanel, outcomePanel, promptsPanel, timelinePanel } from "./sessionPanels.js";
import type { SessionList } from "./sessionList.js";

/**
 * One session: heading, outcome, actions, the lifecycle diagram with the current state and the
 * path taken, the step-through replay, prompts and timeline. Fetched again whenever the live feed
 * says the session changed (never more than one fetch at a time), without a reload.
 */
export function sessionView(id: string, list: SessionList, machine: Promise<DiagramModel>): { element: HTMLElement; dispose(): void } {
  let detail: SessionDetail | undefined;
  /** The replay step shown; null follows the latest. */
  let pinned: number | null = null;
  let diagram: DiagramView | undefined;
  let fetching = false;
  let again = false;
  let disposed = false;
  // Functions, not the variables, in loop conditions: other callbacks change them meanwhile.
  const wantsAnother = (): boolean => again && !disposed;
  const isDisposed = (): boolean => disposed;

  const head = h("div", { class: "head-slot" }, h("p", { class: "loading" }, "Loading the session…"));
  const outcome = h("div", { class: "outcome-slot" });
  const actions = actionsPanel(id, () => void refresh());
  const replay = replayControls((index) => {
    pinned = detail !== undefined && index >= detail.replay.length - 1 ? null : index;
    draw();
  });
  const figure = h("figure", { class: "diagram-frame" }, h("p", { class: "muted" }, "Drawing the lifecycle…"));
  const legend = h(
    "figcaption",
    { class: "legend" },
    h("span", { class: "key current" }, "current state"),
    h("span", { class: "key visited" }, "visited"),
    h("span", { class: "key taken" }, "transition taken"),
    h("span", { class: "muted" }, "Drawn from the machine definition (the same source as docs/lifecycle.md)."),
  );
  const prompts = h("div", { class: "prompts-slot" });
  const timeline = h("div", { class: "timeline-slot" });
  // Wide windows: the lifecycle and the timeline on the left, the session's facts and actions on the right.
  const element = h(
    "article",
    { class: "session-view", "aria-labelledby": "session-title" },
    h("nav", { class: "crumbs" }, h("a", { href: "#/", class: "back" }, "← All sessions")),
    h(
      "div",
      { class: "session-grid" },
      h("div", { class: "side" }, head, outcome, actions.element, prompts),
      h(
        "div",
        { class: "main-column" },
        h("section", { class: "panel lifecycle", "aria-labelledby": "lifecycle-title" }, h("h2", { id: "lifecycle-title" }, "Lifecycle"), replay.element, figure, legend),
        timeline,
      ),
    ),
  );

  function stepIndex(): number {
    const last = (detail?.replay.length ?? 1) - 1;
    return pinned === null ? last : Math.min(pinned, last);
  }

  function draw(): void {
    if (detail === undefined) return;
    const index = stepIndex();
    const steps = detail.replay;
    replay.update(steps, index, steps[0]?.at ?? 0);
    if (diagram !== undefined) {
      const shown = steps.slice(0, index + 1);
      const visited = new Set(shown.flatMap((step) => step.state.split(".").map((_, at, parts) => parts.slice(0, at + 1).join("."))));
      diagram.highlight(steps[index]?.state ?? "", visited, shown.flatMap((step) => (step.edge === null ? [] : [step.edge])));
    }
    replaceChildren(prompts, promptsPanel(detail));
    replaceChildren(
      timeline,
      timelinePanel(detail, index, (picked) => {
        pinned = picked >= steps.length - 1 ? null : picked;
        draw();
      }),
    );
  }

  async function refresh(): Promise<void> {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      do {
        again = false;
        const fresh = await api.session(id);
        if (isDisposed()) return;
        detail = fresh;
        replaceChildren(head, headerPanel(fresh));
        replaceChildren(outcome, outcomePanel(fresh.summary));
        actions.update(fresh.summary);
        document.title = `${fresh.summary.repository} · ${STATE_LABELS[fresh.summary.state]} · cloudsession`;
        draw();
      } while (wantsAnother());
    } catch (error) {
      replaceChildren(head, h("p", { class: "banner problem", role: "alert" }, error instanceof ApiRefusal ? error.message : `The session could not be loaded: ${String(error)}`));
    } finally {
      fetching = false;
    }
  }

  void machine.then((model) => {
    if (disposed) return;
    diagram = drawDiagram(model);
    replaceChildren(figure, diagram.element);
    draw();
  });
  const unsubscribe = list.subscribe((changed, all) => {
    if (all || changed.some((session) => session.id === id)) void refresh();
  });
  void refresh();
  return {
    element,
    dispose() {
      disposed = true;
      unsubscribe();
    },
  };
}
