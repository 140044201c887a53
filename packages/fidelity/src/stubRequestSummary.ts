import type { StubRequest } from "./capiStub.js";

/** One HTTP call the runtime made, reduced to what is stable across runs. */
export interface StubRequestSummary {
  readonly call: string;
  readonly status: number;
  readonly closedEarly?: true;
  /** Sorted top-level keys of a JSON body. */
  readonly bodyKeys?: readonly string[];
}

/** The runtime's HTTP calls in order, as `METHOD /path` with status and body keys. */
export function stubRequestSummary(requests: readonly StubRequest[]): StubRequestSummary[] {
  return requests.map((request) => ({
    call: `${request.method} ${request.path}`,
    status: request.status,
    ...(request.closedEarly === true ? { closedEarly: true as const } : {}),
    ...(typeof request.body === "object" && request.body !== null && !Array.isArray(request.body) ? { bodyKeys: Object.keys(request.body).sort() } : {}),
  }));
}
