import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';

export { context, propagation, SpanKind, SpanStatusCode, trace, type Context, type Span };

/** Spotter's tracer; a no-op until `startTracing` registers an SDK. */
export const tracer = trace.getTracer('spotter');

/**
 * Starts the OpenTelemetry SDK exporting over OTLP/HTTP when an endpoint is configured.
 * Without one nothing is registered: the API's no-op tracer makes every span free.
 */
export async function startTracing(opts: { serviceName: string; version: string; otlpEndpoint?: string | undefined }) {
  if (!opts.otlpEndpoint) return { enabled: false, shutdown: async () => {} };
  // Loaded only when used: the SDK and exporter weigh about 30 MB of RSS.
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { NodeSDK }, { BatchSpanProcessor }, { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION }] =
    await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/semantic-conventions'),
    ]);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName, [ATTR_SERVICE_VERSION]: opts.version }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${opts.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }))],
    instrumentations: [],
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}

/** W3C trace context of the active span, to carry inside a job payload. */
export function injectTraceContext(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a job payload carries (or the root context when it carries none). */
export function extractTraceContext(carrier: Record<string, string> | undefined): Context {
  return carrier ? propagation.extract(context.active(), carrier) : context.active();
}

/** Runs `fn` inside a new active span; records the error and ends the span either way. */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer.startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Records a span that already happened (from measured epoch-millisecond times). */
export function recordSpan(name: string, startMs: number, endMs: number, attributes: Attributes = {}, parent: Context = context.active()) {
  tracer.startSpan(name, { startTime: startMs, attributes }, parent).end(endMs);
}

/** trace_id / span_id of the active span, for log lines. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return traceFlags ? { trace_id: traceId, span_id: spanId } : {};
}
