/** One HTTP request with fetch, the body parsed when it is JSON. */
export async function call(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const response = await fetch(url, { redirect: "manual", ...init });
  const text = await response.text();
  const json = (response.headers.get("content-type") ?? "").startsWith("application/json");
  return { status: response.status, headers: response.headers, text, body: json ? (JSON.parse(text) as unknown) : undefined };
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

/** A Server-Sent Events stream, read one `data:` message at a time. */
export interface Feed {
  next(): Promise<unknown>;
  close(): void;
}

export async function openFeed(url: string): Promise<Feed> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ready: unknown[] = [];
  let buffer = "";
  return {
    async next() {
      while (ready.length === 0) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the feed ended");
        buffer += value;
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          const data = buffer.slice(0, end).split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n");
          buffer = buffer.slice(end + 2);
          if (data !== "") ready.push(JSON.parse(data));
        }
      }
      return ready.shift();
    },
    close: () => controller.abort(),
  };
}
