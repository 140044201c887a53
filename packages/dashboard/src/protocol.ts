/**
 * The JSON the dashboard's server sends its page. Type-only and import-free, so the browser bundle
 * (client/) shares these declarations with the server without pulling in a Node module.
 */

/** A session's top-level lifecycle state (the machine's `LifecycleState`; a type test keeps them equal). */
export type SessionStateName = "reserving" | "awaiting-agent" | "ready" | "streaming" | "blocked" | "failed" | "closed";

/** How far a session's prompts got, counted by status. */
export interface PromptCounts {
  /** Reached the runtime: `sent`, `completed` or `interrupted`. */
  readonly delivered: number;
  /** Waiting for their turn: `queued`, or `dispatching` (intent logged, not yet confirmed). */
  readonly queued: number;
  /** Never reached the runtime (the session ended first). */
  readonly undelivered: number;
}

export interface FailureView {
  /** The state the session was in: `reserving`, `awaiting-agent`, `ready` or `streaming`. */
  readonly phase: string;
  /** `policy_blocked`, `timeout`, `session-error`, … */
  readonly reason: string;
  readonly message: string;
}

/** One row of the sessions list. */
export interface SessionSummary {
  readonly id: string;
  /** `owner/name` or `owner/name@branch`. */
  readonly repository: string;
  readonly state: SessionStateName;
  /** The full state path, e.g. `reserving.backing-off`. */
  readonly statePath: string;
  readonly final: boolean;
  /** Epoch ms of the request (the log's first event). */
  readonly createdAt: number;
  /** Epoch ms of the last event recorded. */
  readonly updatedAt: number;
  /** The log's version: the number of events recorded. */
  readonly version: number;
  readonly prompts: PromptCounts;
  readonly remoteUrl: string | null;
  readonly failure: FailureView | null;
  readonly closeReason: string | null;
  /** Set when the log could not be read: the session is shown, never acted on. */
  readonly damaged: string | null;
  /** The engine behind this dashboard runs the session: actions are offered. */
  readonly running: boolean;
}

export interface PromptView {
  readonly id: string;
  readonly text: string;
  /** `queued`, `dispatching`, `sent`, `completed`, `interrupted` or `undelivered`. */
  readonly status: string;
  readonly submittedAt: number;
  readonly reply: string | null;
  readonly reason: string | null;
}

/** One recorded event, as the timeline shows it. */
export interface TimelineEntry {
  readonly version: number;
  readonly type: string;
  /** The event's own time (epoch ms). */
  readonly at: number;
  /** The event's key data in a few words (ids, reasons, a prompt's first words). */
  readonly detail: string;
}

/** The machine after one event of the log: what the step-through replay shows. */
export interface ReplayStep {
  readonly version: number;
  readonly event: string;
  readonly at: number;
  /** State path after the event. */
  readonly state: string;
  /** The diagram edge this event took, when it changed state. */
  readonly edge: string | null;
}

/** One session: `GET api/sessions/:id`. */
export interface SessionDetail {
  readonly summary: SessionSummary;
  /** The SDK (server-minted) session id, once reserved. */
  readonly sdkSessionId: string | null;
  readonly prompts: readonly PromptView[];
  readonly timeline: readonly TimelineEntry[];
  /** Step 0 is the initial state (after `session.requested`). */
  readonly replay: readonly ReplayStep[];
}

/** A state of the lifecycle diagram, laid out. Ids are dotted paths: `reserving.attempting`. */
export interface DiagramNode {
  readonly id: string;
  readonly label: string;
  readonly parent: string | null;
  readonly kind: "atomic" | "compound" | "final";
  /** The state its parent (or the machine) starts in. */
  readonly initial: boolean;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Transitions from one state to another, merged; drawn as one orthogonal path. */
export interface DiagramEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** `event [guard]` per transition. */
  readonly labels: readonly string[];
  /** Polyline points: source port, lane, target port. */
  readonly points: readonly (readonly [number, number])[];
  /** Where the labels' bottom line starts (`left` side: where it ends); more lines stack upwards. */
  readonly labelX: number;
  readonly labelY: number;
  /** Which side of the state column the edge runs on: to final states on the right, the rest on the left. */
  readonly side: "left" | "right";
}

/** `GET api/machine`: the lifecycle diagram drawn from the machine definition. */
export interface DiagramModel {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly DiagramNode[];
  readonly edges: readonly DiagramEdge[];
}

/** What the live feed (`GET api/feed`, Server-Sent Events) sends. */
export type FeedMessage =
  /**
   * First message of every connection: the newest sessions, enough for a first screen; `complete`
   * is false when `more` messages follow with the older ones (a big store's list comes in two parts,
   * so the first screen does not wait for all of it).
   */
  | { readonly kind: "snapshot"; readonly sessions: readonly SessionSummary[]; readonly complete: boolean }
  /** The rest of the list after a snapshot, older sessions, newest first. */
  | { readonly kind: "more"; readonly sessions: readonly SessionSummary[]; readonly complete: true }
  /** Sessions that changed since the last message (coalesced). */
  | { readonly kind: "changes"; readonly sessions: readonly SessionSummary[] }
  /** The store's subscription ended: the list no longer updates. */
  | { readonly kind: "stalled"; readonly message: string };

/** Every error answer of the dashboard's API. */
export interface ApiError {
  readonly code: string;
  readonly message: string;
  readonly retryAfterMs?: number;
}
