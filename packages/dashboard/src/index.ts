/**
 * @cloudsession/dashboard: a local web dashboard of sessions — the live list, one session's
 * lifecycle diagram, timeline, prompts and step-through replay, and actions through the engine —
 * bundled with the package, so it works offline and its page talks to nobody but its own server.
 */
export { createDashboard } from "./createDashboard.js";
export type { Dashboard, DashboardOptions } from "./createDashboard.js";
export { serveDashboard } from "./serveDashboard.js";
export type { ServeDashboardOptions, ServedDashboard } from "./serveDashboard.js";
export { openSessionCatalog } from "./sessionCatalog.js";
export type { SessionCatalog, SessionCatalogOptions } from "./sessionCatalog.js";
export { summarize, countPrompts } from "./sessionSummary.js";
export type { LogPosition, StoredSummary } from "./sessionSummary.js";
export { sessionDetail } from "./sessionDetail.js";
export { machineGraph, guardLabel } from "./diagram/machineGraph.js";
export type { MachineGraph, MachineState, MachineTransition, StateNodeLike } from "./diagram/machineGraph.js";
export { layoutDiagram } from "./diagram/diagramLayout.js";
export { edgeTaken } from "./diagram/pathTaken.js";
export { DashboardError, isDashboardError } from "./dashboardError.js";
export type { DashboardErrorCode } from "./dashboardError.js";
export type { DashboardEngine } from "./sessionActions.js";
export type {
  ApiError,
  DiagramEdge,
  DiagramModel,
  DiagramNode,
  FailureView,
  FeedMessage,
  PromptCounts,
  PromptView,
  ReplayStep,
  SessionDetail,
  SessionStateName,
  SessionSummary,
  TimelineEntry,
} from "./protocol.js";
