import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import { startInspectorRelay, type InspectorRelay } from "../src/inspector/relay.js";

// The relay carries a session's repository, SDK session id and Mission Control URL: a web page of
// another origin, or one that reached 127.0.0.1 through DNS rebinding, must get none of it.
let relay: InspectorRelay | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets) socket.terminate();
  sockets.length = 0;
  await relay?.close();
  relay = undefined;
});

interface Joined {
  readonly socket: WebSocket;
  readonly messages: string[];
}

/** Connects as a browser would (with `Origin`) or as a program (without); resolves once open, or with the refusal's status. */
function join(url: string, headers: Record<string, string> = {}): Promise<Joined | { refused: number }> {
  const socket = new WebSocket(url, { headers });
  sockets.push(socket);
  const messages: string[] = [];
  socket.on("message", (data: Buffer) => messages.push(data.toString("utf8")));
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve({ socket, messages }));
    socket.once("unexpected-response", (_request, response) => resolve({ refused: response.statusCode ?? 0 }));
    socket.once("error", reject);
  });
}

function opened(joined: Joined | { refused: number }): Joined {
  if ("refused" in joined) throw new Error(`refused with ${joined.refused}`);
  return joined;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** The relay with messages an inspector sent, buffered for later clients. */
async function relayWithTraffic(): Promise<InspectorRelay> {
  relay = await startInspectorRelay();
  const inspector = opened(await join(relay.wsUrl)); // the CLI's inspector sends no Origin
  for (let index = 0; index < 3; index++) inspector.socket.send(JSON.stringify({ type: "@xstate.snapshot", sessionId: `s${index}`, remoteUrl: "https://github.com/copilot/tasks/x" }));
  const probe = opened(await join(relay.wsUrl));
  await until(() => probe.messages.length === 3); // buffered
  return relay;
}

function getPage(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path: "/", headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end();
  });
}

describe("the inspector relay's Origin and Host checks", () => {
  test("a web page of another origin is refused at the upgrade: no buffered message reaches it, and it relays nothing", async () => {
    const running = await relayWithTraffic();
    const listener = opened(await join(running.wsUrl));
    const evil = await join(running.wsUrl, { origin: "https://evil.example" });
    expect(evil).toEqual({ refused: 403 });
    // Another page on this machine is another origin too.
    expect(await join(running.wsUrl, { origin: "http://127.0.0.1:1" })).toEqual({ refused: 403 });
    expect(await join(running.wsUrl, { origin: "null" })).toEqual({ refused: 403 });
    // The listener heard only the buffered replay: nothing was relayed from the refused clients.
    expect(listener.messages).toHaveLength(3);
  });

  test("the relay's own page (its origin, by 127.0.0.1 or localhost) joins and gets the buffered messages", async () => {
    const running = await relayWithTraffic();
    for (const host of [`127.0.0.1:${running.port}`, `localhost:${running.port}`]) {
      const page = opened(await join(running.wsUrl, { origin: `http://${host}`, host }));
      await until(() => page.messages.length === 3);
      expect(JSON.parse(page.messages[0] ?? "{}")).toMatchObject({ sessionId: "s0" });
    }
  });

  test("a Host that is not a loopback name (DNS rebinding) is refused, for the page and for the WebSocket, even from its own origin", async () => {
    const running = await relayWithTraffic();
    const rebound = `evil.example:${running.port}`;
    expect(await join(running.wsUrl, { host: rebound, origin: `http://${rebound}` })).toEqual({ refused: 403 });
    expect(await join(running.wsUrl, { host: rebound })).toEqual({ refused: 403 });
    expect(await getPage(running.port, rebound)).toBe(421);
    expect(await getPage(running.port, `127.0.0.1:${running.port}`)).toBe(200);
  });
});
