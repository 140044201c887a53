import type { SessionSummary } from "../src/protocol.js";
import { ApiRefusal, api } from "./api.js";
import { h } from "./dom.js";

/**
 * Send a prompt, abort the turn, close the session: shown only while the engine behind the
 * dashboard runs the session; every action goes through the engine's API and reports what the
 * engine said (its refusals included). Built once per view, so typing survives live refreshes.
 */
export function actionsPanel(id: string, onDone: () => void): { element: HTMLElement; update(summary: SessionSummary): void } {
  const status = h("p", { class: "action-status", role: "status", "aria-live": "polite" });
  const text = h("textarea", { id: "prompt-text", name: "prompt", rows: 3, placeholder: "Ask the agent… (Ctrl+Enter sends)", required: true });
  const send = h("button", { type: "submit", class: "primary" }, "Send prompt");
  const abort = h("button", { type: "button", onclick: () => void run(abort, () => api.abortTurn(id), () => "Abort requested: the turn ends, the next queued prompt follows.") }, "Abort turn");
  let pending: { text: string; promptId: string } | undefined;
  let confirming = false;
  let confirmTimer = 0;
  const close = h("button", {
    type: "button",
    class: "danger",
    onclick: () => {
      if (!confirming) {
        confirming = true;
        close.textContent = "Confirm: close the session";
        confirmTimer = window.setTimeout(resetClose, 6000);
        return;
      }
      resetClose();
      void run(close, () => api.closeSession(id), (result) => `Session ${result.state}.`);
    },
  }, "Close session");
  const resetClose = (): void => {
    confirming = false;
    window.clearTimeout(confirmTimer);
    close.textContent = "Close session";
  };
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  const form = h(
    "form",
    {
      class: "prompt-form",
      onsubmit: (event) => {
        event.preventDefault();
        const prompt = text.value;
        if (prompt.trim() === "") return;
        // One id per prompt typed: sending it again after a failure cannot deliver it twice.
        if (pending?.text !== prompt) pending = { text: prompt, promptId: newPromptId() };
        const { promptId } = pending;
        void run(send, () => api.sendPrompt(id, prompt, promptId), (result) => {
          pending = undefined;
          text.value = "";
          return `Prompt ${result.promptId} queued: it is delivered when the agent is free, in order.`;
        });
      },
    },
    h("label", { for: "prompt-text" }, "Send a prompt"),
    text,
    h("div", { class: "buttons" }, send, abort, close),
  );
  const element = h("section", { class: "panel actions", "aria-labelledby": "actions-title", hidden: true }, h("h2", { id: "actions-title" }, "Actions"), form, status);

  async function run<T>(button: HTMLButtonElement, action: () => Promise<T>, success: (result: T) => string): Promise<void> {
    button.disabled = true;
    status.className = "action-status";
    status.textContent = "…";
    try {
      status.textContent = success(await action());
      onDone();
    } catch (error) {
      status.className = "action-status refused";
      status.textContent = error instanceof ApiRefusal ? `Refused (${error.code}): ${error.message}${error.retryAfterMs === undefined ? "" : `; try again in ${Math.ceil(error.retryAfterMs / 1000)} s`}` : `Failed: ${String(error)}`;
    } finally {
      button.disabled = false;
    }
  }

  return {
    element,
    update(summary) {
      element.hidden = !summary.running;
      abort.disabled = summary.state !== "streaming";
      abort.title = summary.state === "streaming" ? "abort the running turn" : "no turn is running";
    },
  };
}

/** A random id; `crypto.randomUUID` needs a secure context, `getRandomValues` does not (a service on plain http elsewhere). */
function newPromptId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `page-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}
