/** An event envelope as the SDK delivers it (loosely typed: fixtures must load whatever the runtime sent). */
export interface RawEvent {
  readonly type: string;
  readonly id?: string;
  readonly timestamp?: string;
  readonly parentId?: string | null;
  readonly ephemeral?: boolean;
  readonly agentId?: string;
  readonly data?: unknown;
}

/** A recorded event with ids and times normalised; the shape is kept exactly. */
export interface FixtureEvent {
  readonly type: string;
  /** Present only when the runtime sent it (`true`): persisted events have no `ephemeral` key. */
  readonly ephemeral?: true;
  /** Envelope keys the runtime sent, sorted. */
  readonly envelopeKeys: readonly string[];
  /** Top-level `data` keys, sorted. */
  readonly dataKeys: readonly string[];
  readonly id: string;
  readonly parentId: string | null;
  readonly timestamp: string;
  /** `data` with ids → `<id:N>`, ISO times → `<ts>`, temp paths → `<home>`, long texts elided. */
  readonly data: unknown;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;
const STUB_CALL_ID = /chatcmpl-stub-[0-9a-z]+/g;
const LONG_TEXT = 240;
/** Keys whose numbers are measurements (times, sizes, epoch ms) rather than facts of the protocol. */
const VOLATILE_NUMBER = /(Ms|Time|Bytes|Tokens|Nanos|Aiu)$|^(elapsedMs|outputTtftMs|duration|cost)$/;

/**
 * Normalises recorded events so fixtures are stable across runs: every uuid (and stub call id)
 * becomes `<id:N>` numbered by first appearance across the whole recording (so `parentId`,
 * `originatingMessageId` and `sessionId` still point at the right event), ISO timestamps become
 * `<ts>`, the throwaway home becomes `<home>`, texts over 240 characters become `<text:long>`, and
 * measured numbers (durations, sizes, token counts) become 0. Types, order, envelope keys, data keys
 * and the `ephemeral` flag are kept exactly.
 *
 * @example
 * const normalise = createNormalizer(["/tmp/cloudsession-fidelity-abc"]);
 * const fixtureEvents = events.map(normalise.event);
 */
export function createNormalizer(paths: readonly string[] = []): { event: (event: RawEvent) => FixtureEvent; value: (value: unknown, key?: string) => unknown } {
  const ids = new Map<string, string>();
  const idFor = (raw: string): string => {
    const key = raw.toLowerCase();
    let id = ids.get(key);
    if (id === undefined) {
      id = `<id:${ids.size}>`;
      ids.set(key, id);
    }
    return id;
  };
  const text = (raw: string): string => {
    let out = raw;
    for (const path of paths) out = out.split(path).join("<home>");
    out = out.replace(ISO_TIME, "<ts>").replace(UUID, idFor).replace(STUB_CALL_ID, idFor);
    return out.length > LONG_TEXT ? "<text:long>" : out;
  };
  const value = (input: unknown, key = ""): unknown => {
    if (typeof input === "string") return text(input);
    if (typeof input === "number") return VOLATILE_NUMBER.test(key) ? 0 : input;
    if (Array.isArray(input)) return input.map((item) => value(item));
    if (typeof input === "object" && input !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(input)) out[text(k)] = value(v, k);
      return out;
    }
    return input;
  };
  const event = (raw: RawEvent): FixtureEvent => {
    const data = typeof raw.data === "object" && raw.data !== null ? raw.data : {};
    return {
      type: raw.type,
      ...(raw.ephemeral === true ? { ephemeral: true as const } : {}),
      envelopeKeys: Object.keys(raw).sort(),
      dataKeys: Object.keys(data).sort(),
      id: raw.id === undefined ? "<none>" : idFor(raw.id),
      parentId: raw.parentId === null || raw.parentId === undefined ? null : idFor(raw.parentId),
      timestamp: "<ts>",
      data: value(data),
    };
  };
  return { event, value };
}
