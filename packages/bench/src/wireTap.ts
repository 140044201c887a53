import { Socket } from "node:net";

/**
 * Milliseconds on the system's monotonic clock: comparable between processes on one machine (a
 * simulator in a child process stamps its writes with it), unlike `performance.now()`.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A JSON-RPC frame body seen leaving a socket in this process, with the time it was written. */
export interface TappedFrame {
  readonly at: number;
  readonly body: string;
}

type Write = (this: Socket, chunk: unknown, ...rest: unknown[]) => boolean;

/**
 * Records, with `clock` (default `performance.now()`), every socket write in this process whose
 * bytes contain one of `markers` (e.g. `"session.send"`): the moment a frame goes on the wire.
 * When client and simulator share the process both directions are seen. `stop()` restores
 * `Socket.prototype.write`.
 */
export function tapWire(markers: readonly string[], onFrame: (frame: TappedFrame) => void, clock: () => number = () => performance.now()): { stop(): void } {
  const prototype = Socket.prototype as unknown as { write: Write };
  const original = prototype.write;
  const needles = markers.map((marker) => Buffer.from(marker));
  prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
    const at = clock();
    // Strings are searched as they are, bytes through a view: the tap must not copy every write.
    if (typeof chunk === "string") {
      if (markers.some((marker) => chunk.includes(marker))) onFrame({ at, body: chunk });
    } else if (chunk instanceof Uint8Array) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (needles.some((needle) => bytes.includes(needle))) onFrame({ at, body: bytes.toString("utf8") });
    }
    return original.call(this, chunk, ...rest);
  };
  return {
    stop() {
      prototype.write = original;
    },
  };
}

type Emit = (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;

/** The header block in front of every JSON-RPC frame body (`Content-Length: N`, then a blank line). */
const frameHeaders = /Content-Length:[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n/;

/**
 * The reading side of {@link tapWire}: records, with `clock`, every frame body containing one of
 * `markers` in the bytes a socket of this process hands to JavaScript (its `data` event), the moment
 * a reader can first see it. A frame split over two reads is not reported. `stop()` restores
 * `Socket.prototype.emit`.
 */
export function tapWireReads(markers: readonly string[], onFrame: (frame: TappedFrame) => void, clock: () => number = () => performance.now()): { stop(): void } {
  const prototype = Socket.prototype as unknown as { emit: Emit };
  const hadOwn = Object.prototype.hasOwnProperty.call(prototype, "emit");
  const original = prototype.emit;
  const needles = markers.map((marker) => Buffer.from(marker));
  prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    const chunk = args[0];
    if (event === "data" && chunk instanceof Uint8Array) {
      const at = clock();
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (needles.some((needle) => bytes.includes(needle))) {
        for (const body of bytes.toString("utf8").split(frameHeaders)) {
          if (markers.some((marker) => body.includes(marker))) onFrame({ at, body });
        }
      }
    }
    return original.call(this, event, ...args);
  };
  return {
    stop() {
      if (hadOwn) prototype.emit = original;
      else delete (prototype as { emit?: Emit }).emit;
    },
  };
}

/** The `sessionId` a JSON-RPC frame is about (params.sessionId), if it parses. */
export function sessionIdOf(body: string): string | undefined {
  try {
    const message = JSON.parse(body) as { params?: { sessionId?: unknown } };
    const id = message.params?.sessionId;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}
