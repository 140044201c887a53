import { metrics, trace } from "@opentelemetry/api";
import { MeterProvider, type MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base";

export interface TelemetryOptions {
  /** Where spans go, e.g. an OTLP exporter; batched. */
  readonly spanExporter?: SpanExporter;
  /** Or processors you build yourself (tests use a `SimpleSpanProcessor` for synchronous export). */
  readonly spanProcessors?: readonly SpanProcessor[];
  readonly metricReaders?: readonly MetricReader[];
}

export interface Telemetry {
  /** Flushes and stops the providers, and unregisters them. */
  shutdown(): Promise<void>;
}

// #region telemetry
/**
 * Registers the OpenTelemetry SDK as the process's global tracer and meter providers. The engine
 * only uses `@opentelemetry/api`, so this (before `createEngine`) is all it takes to see its spans
 * and metrics; without it the engine's telemetry is a no-op.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const spanProcessors = [...(options.spanProcessors ?? []), ...(options.spanExporter ? [new BatchSpanProcessor(options.spanExporter)] : [])];
  const tracerProvider = new BasicTracerProvider({ spanProcessors });
  const meterProvider = new MeterProvider({ readers: [...(options.metricReaders ?? [])] });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metrics.disable();
    },
  };
}
// #endregion telemetry
