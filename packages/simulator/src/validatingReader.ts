import { AbstractMessageReader, type DataCallback, type Disposable, type Message, type MessageReader } from "vscode-jsonrpc/node.js";

const isId = (value: unknown): value is number | string => typeof value === "number" || typeof value === "string";

/** Whether a parsed frame is a JSON-RPC request, notification or response vscode-jsonrpc can route. */
export function isJsonRpcMessage(value: unknown): value is Message {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const m = value as Record<string, unknown>;
  if (m["jsonrpc"] !== "2.0") return false;
  if ("method" in m) {
    return typeof m["method"] === "string" && (!("id" in m) || isId(m["id"]) || m["id"] === null);
  }
  return isId(m["id"]) && ("result" in m || "error" in m);
}

/**
 * Wraps a reader and diverts frames that parse as JSON but are not JSON-RPC messages.
 * vscode-jsonrpc only logs those; a runtime should answer them with "Invalid Request".
 */
export class ValidatingMessageReader extends AbstractMessageReader {
  readonly #inner: MessageReader;
  readonly #onInvalid: (frame: unknown) => void;

  constructor(inner: MessageReader, onInvalid: (frame: unknown) => void) {
    super();
    this.#inner = inner;
    this.#onInvalid = onInvalid;
    inner.onError((error) => {
      this.fireError(error);
    });
    inner.onClose(() => {
      this.fireClose();
    });
    inner.onPartialMessage((info) => {
      this.firePartialMessage(info);
    });
  }

  listen(callback: DataCallback): Disposable {
    return this.#inner.listen((message: unknown) => {
      if (isJsonRpcMessage(message)) callback(message);
      else this.#onInvalid(message);
    });
  }

  override dispose(): void {
    super.dispose();
    this.#inner.dispose();
  }
}
