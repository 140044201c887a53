import { ReadableStreamMessageReader, type Disposable } from "vscode-jsonrpc/node.js";

/**
 * vscode-jsonrpc 8.2.1 (the Copilot SDK's JSON-RPC layer) arms a 10 s timer whenever a chunk ends
 * inside a message (a header here, its body not yet), and re-arms it every time it fires for as
 * long as that message stays incomplete. Nothing clears it when the connection closes or is
 * disposed: a client stopped just as the runtime was writing (events streaming, a reply on its
 * way) keeps a ref'd timer forever, and the process never exits on its own after `engine.close()`.
 * Seen in the crash tests: about one restarted process in 250-500 printed "done" and hung.
 *
 * This guard makes a reader stop that timer once its stream has closed or the reader is disposed:
 * a message that can no longer arrive is not waited for. Nothing else changes.
 */
let installed = false;

/** The reader's internals the guard relies on (8.2.1); checked before patching. */
interface ReaderInternals {
  readable: { onClose: (listener: () => void) => Disposable };
  listen: (this: ReaderInternals, callback: unknown) => Disposable;
  dispose: (this: ReaderInternals) => void;
  setPartialMessageTimer: (this: ReaderInternals) => void;
  clearPartialMessageTimer: (this: ReaderInternals) => void;
}

/** Readers whose stream closed (or that were disposed): no partial message can complete. */
const finished = new WeakSet<object>();

export function installPartialMessageTimerGuard(): void {
  if (installed) return;
  installed = true;
  const reader = ReadableStreamMessageReader.prototype as unknown as ReaderInternals;
  // A later vscode-jsonrpc may have fixed or renamed this: then there is nothing to guard.
  if (typeof reader.setPartialMessageTimer !== "function" || typeof reader.clearPartialMessageTimer !== "function") return;
  const { listen, dispose, setPartialMessageTimer } = reader;
  reader.listen = function (this: ReaderInternals, callback: unknown): Disposable {
    const listening = listen.call(this, callback);
    this.readable.onClose(() => finish(this));
    return listening;
  };
  reader.dispose = function (this: ReaderInternals): void {
    finish(this);
    dispose.call(this);
  };
  reader.setPartialMessageTimer = function (this: ReaderInternals): void {
    if (!finished.has(this)) setPartialMessageTimer.call(this);
  };
}

function finish(reader: ReaderInternals): void {
  finished.add(reader);
  reader.clearPartialMessageTimer();
}
