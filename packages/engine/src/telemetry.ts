import type { SessionLogEvent } from "@cloudsession/machine";
import { SpanStatusCode, context, createNoopMeter, isSpanContextValid, metrics, trace, type Attributes, type Counter, type Histogram, type Meter, type Span } from "@opentelemetry/api";
import type { SessionHandle } from "./sessionHandle.js";

/** The instrumentation scope of every span and metric the engine makes. */
export const TELEMETRY_SCOPE = "@cloudsession/engine";

interface Instruments {
  readonly timeToReady: Histogram;
  readonly outcomes: Counter;
  readonly dispatchLatency: Histogram;
  /** Sessions whose queued prompts the `cloudsession.queue.depth` gauge adds up. */
  readonly observed: Set<SessionHandle>;
}

// One set of instruments per meter: a host that registers its MeterProvider after the first
// session gets real instruments from then on (the metrics API, unlike tracing, has no proxy).
const instrumentsByMeter = new WeakMap<Meter, Instruments>();

function instrumentsFor(meter: Meter): Instruments {
  const known = instrumentsByMeter.get(meter);
  if (known) return known;
  const observed = new Set<SessionHandle>();
  const instruments: Instruments = {
    timeToReady: meter.createHistogram("cloudsession.session.time_to_ready", {
      unit: "ms",
      description: "From session.requested to the remote agent's session.start",
    }),
    outcomes: meter.createCounter("cloudsession.session.outcomes", { description: "Sessions ended, by final state" }),
    dispatchLatency: meter.createHistogram("cloudsession.dispatch.latency", {
      unit: "ms",
      description: "From the write-ahead prompt.dispatching to the runtime's messageId",
    }),
    observed,
  };
  meter
    .createObservableGauge("cloudsession.queue.depth", { description: "Prompts queued (not yet dispatched) across this process's sessions" })
    .addCallback((result) => {
      let depth = 0;
      for (const session of observed) depth += session.snapshot().context.prompts.queueLength;
      result.observe(depth);
    });
  instrumentsByMeter.set(meter, instruments);
  return instruments;
}

/**
 * Observes one session through its public handle: a `cloudsession.session` span with the
 * lifecycle as span events, a `cloudsession.turn` child span per dispatched prompt, and the
 * engine's metrics. Only `@opentelemetry/api` is used, so without a registered SDK it is a no-op.
 * Prompt and reply texts, and tokens, never become attributes: ids, states and counts only.
 *
 * A session this process only detaches from (engine shutdown) keeps its span open (never
 * exported); the process that recovers it starts a new span, which gets
 * `cloudsession.session.resumed: true` when it re-attaches.
 *
 * With no tracer or meter provider registered when the session is observed, it is left alone:
 * no subscription, nothing kept per session (a host registers the SDK before creating the engine).
 *
 * @example
 * const session = await engine.start({ repository, prompts });
 * observeSession(session); // the engine does this for every session it starts, resumes or recovers
 */
export function observeSession(session: SessionHandle): void {
  const snapshot = session.snapshot();
  if (snapshot.status !== "active") return; // already over: nothing to time, nothing to count
  const tracer = trace.getTracer(TELEMETRY_SCOPE);
  const meter = metrics.getMeter(TELEMETRY_SCOPE);
  const { repository, requestedAt } = snapshot.context;
  const sessionSpan = tracer.startSpan("cloudsession.session", {
    startTime: time(requestedAt),
    attributes: {
      "cloudsession.session.id": session.id,
      "cloudsession.repository.owner": repository.owner,
      "cloudsession.repository.name": repository.name,
      ...(repository.branch === undefined ? {} : { "cloudsession.repository.branch": repository.branch }),
      ...(session.sessionId === null ? {} : { "cloudsession.sdk_session.id": session.sessionId }),
      // Set to true by a re-attach (the handle is observed once its start is in the log, after `session.requested`).
      "cloudsession.session.resumed": false,
    },
  });
  // Nothing registered: every span and instrument below would be a no-op, so do not pay for the
  // subscriptions (several KB per idle session). A sampled-out span still has a valid context.
  if (!isSpanContextValid(sessionSpan.spanContext()) && meter === createNoopMeter()) return;
  const instruments = instrumentsFor(meter);
  const parent = trace.setSpan(context.active(), sessionSpan);
  instruments.observed.add(session);

  let wasReady = snapshot.context.agentStartedAt !== null;
  let turns = 0;
  let turn: { span: Span; promptId: string; dispatchingAt: number } | undefined;

  const endTurn = (at: number | undefined, attributes: Attributes, error?: string) => {
    if (!turn) return;
    turn.span.setAttributes(attributes);
    if (error !== undefined) turn.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    turn.span.end(at === undefined ? undefined : time(at));
    turn = undefined;
  };

  const onEvent = (event: SessionLogEvent) => {
    switch (event.type) {
      case "reservation.succeeded":
        sessionSpan.setAttribute("cloudsession.sdk_session.id", event.sessionId);
        sessionSpan.addEvent("reservation.succeeded", {}, time(event.at));
        break;
      case "reservation.failed":
        sessionSpan.addEvent("reservation.failed", { "cloudsession.reservation.failure": event.failure }, time(event.at));
        break;
      case "agent.started":
        if (!wasReady && session.snapshot().context.agentStartedAt !== null) {
          wasReady = true;
          instruments.timeToReady.record(Math.max(0, event.at - requestedAt));
        }
        break;
      case "prompt.dispatching":
        endTurn(event.at, { "cloudsession.turn.outcome": "superseded" });
        turns += 1;
        turn = {
          promptId: event.promptId,
          dispatchingAt: event.at,
          span: tracer.startSpan(
            "cloudsession.turn",
            { startTime: time(event.at), attributes: { "cloudsession.session.id": session.id, "cloudsession.prompt.id": event.promptId, "cloudsession.turn.number": turns } },
            parent,
          ),
        };
        break;
      case "prompt.dispatched":
        if (turn?.promptId === event.promptId) {
          instruments.dispatchLatency.record(Math.max(0, event.at - turn.dispatchingAt));
          turn.span.addEvent("prompt.dispatched", { "cloudsession.message.id": event.messageId }, time(event.at));
        }
        break;
      case "prompt.dispatch-failed":
        if (turn?.promptId === event.promptId) endTurn(event.at, { "cloudsession.turn.outcome": event.requeue ? "requeued" : "undelivered" }, "dispatch failed");
        break;
      case "turn.abort-requested":
        turn?.span.addEvent("turn.abort-requested", {}, time(event.at));
        break;
      case "turn.idle":
        endTurn(event.at, { "cloudsession.turn.outcome": event.aborted ? "interrupted" : "completed" });
        break;
      case "session.resumed":
        sessionSpan.setAttribute("cloudsession.session.resumed", true);
        sessionSpan.addEvent("session.resumed", {}, time(event.at));
        break;
      default:
        break;
    }
  };

  const events = session.events$.subscribe({ next: onEvent });
  const states = session.state$.subscribe((state) => sessionSpan.addEvent(state, { "cloudsession.state": state }));

  void session.outcome.then((outcome) => {
    events.unsubscribe();
    states.unsubscribe();
    instruments.observed.delete(session);
    instruments.outcomes.add(1, { "cloudsession.state": outcome.state });
    endTurn(undefined, { "cloudsession.turn.outcome": "interrupted" });
    sessionSpan.setAttribute("cloudsession.final_state", outcome.state);
    sessionSpan.setAttribute("cloudsession.turns", turns);
    if (outcome.failure) {
      sessionSpan.setAttributes({ "cloudsession.failure.phase": outcome.failure.phase, "cloudsession.failure.reason": outcome.failure.reason });
      sessionSpan.setStatus({ code: SpanStatusCode.ERROR, message: outcome.failure.reason });
    }
    sessionSpan.end();
  });
}

// Epoch milliseconds as a Date: a bare number older than this process's start would be read by
// the SDK as a performance.now() offset (a recovered session's request time is).
function time(epochMs: number): Date {
  return new Date(epochMs);
}
