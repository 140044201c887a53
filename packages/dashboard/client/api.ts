import type { ApiError, DiagramModel, SessionDetail } from "../src/protocol.js";

/** A refusal from the server, with its stable code. */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = "ApiRefusal";
  }
}

/** URLs relative to the page, so the dashboard works wherever it is mounted. */
function url(path: string): string {
  return new URL(path, document.baseURI).toString();
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url(path), { credentials: "same-origin", ...init });
  const text = await response.text();
  const body: unknown = text === "" ? {} : JSON.parse(text);
  if (!response.ok) {
    const error = body as Partial<ApiError>;
    throw new ApiRefusal(response.status, error.code ?? "HTTP_ERROR", error.message ?? `the server answered ${response.status}`, error.retryAfterMs);
  }
  return body as T;
}

const post = <T>(path: string, body: unknown): Promise<T> =>
  call<T>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const session = (id: string): string => `api/sessions/${encodeURIComponent(id)}`;

export const api = {
  machine: () => call<DiagramModel>("api/machine"),
  session: (id: string) => call<SessionDetail>(session(id)),
  /** `promptId` makes a retry of the same prompt safe: the engine records it once. */
  sendPrompt: (id: string, text: string, promptId: string) => post<{ promptId: string }>(`${session(id)}/prompts`, { text, promptId }),
  abortTurn: (id: string) => post<{ session: string }>(`${session(id)}/abort`, {}),
  closeSession: (id: string) => post<{ session: string; state: string }>(`${session(id)}/close`, {}),
  feedUrl: () => url("api/feed"),
};
