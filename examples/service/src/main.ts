// The service's entry point: `COPILOT_RUNTIME_URL=127.0.0.1:4321 pnpm start`.
import { maskConnectionString } from "@cloudsession/store";
import { ConsoleSpanExporter } from "@opentelemetry/sdk-trace-base";
import { readConfig } from "./config.js";
import { startService, type RunningService } from "./startService.js";
import { startTelemetry } from "./telemetry.js";

// #region main
// Plug your exporter in here (OTLP, …); `OTEL_TRACES_EXPORTER=console` prints spans.
const telemetry = startTelemetry(process.env.OTEL_TRACES_EXPORTER === "console" ? { spanExporter: new ConsoleSpanExporter() } : {});
let service: RunningService;
try {
  const config = readConfig(process.env);
  service = await startService({
    host: config.host,
    port: config.port,
    store: config.store,
    ...(config.schema === undefined ? {} : { schema: config.schema }),
    tokens: config.tokens,
    allowedHosts: config.allowedHosts,
    allowedOrigins: config.allowedOrigins,
    ...(config.trustProxy === undefined ? {} : { trustProxy: config.trustProxy }),
    logger: { level: config.logLevel },
    engine: {
      ...(config.runtimeUrl === undefined ? { clientOptions: {} } : { runtimeUrl: config.runtimeUrl, ...(config.connectionToken === undefined ? {} : { connectionToken: config.connectionToken }) }),
      ...(config.instanceId === undefined ? {} : { cluster: { instanceId: config.instanceId } }),
      ...(config.maxConcurrent === undefined ? {} : { maxConcurrent: config.maxConcurrent }),
      limits: config.engineLimits, // one source of truth: the engine enforces them, its defaults fill the gaps
      timeouts: config.engineTimeouts,
    },
  });
} catch (error) {
  // One line, secrets masked: no stack trace for a configuration mistake.
  process.stderr.write(`cannot start: ${maskConnectionString(error instanceof Error ? error.message : String(error))}\n`);
  await telemetry.shutdown();
  process.exit(1);
}
process.stdout.write(`listening on ${service.url}\n`);

const stop = (signal: NodeJS.Signals) => {
  process.stdout.write(`${signal}: shutting down\n`);
  void service
    .close()
    .then(() => telemetry.shutdown())
    .then(() => process.exit(0), (error: unknown) => {
      console.error(error);
      process.exit(1);
    });
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
// #endregion main
