import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import type { Command } from "commander";
import { afterAll, describe, expect, test } from "vitest";
import { createTerminal } from "../src/output/terminal.js";
import { createProgram } from "../src/program.js";
import { cliEnv, parseNdjson, root, tempDir } from "./support/cli.js";
import { documentedFiles, parseDocument, type ShellBlock } from "./support/documentedCommands.js";

/**
 * Every shell command the READMEs and docs/*.md show is run here, as written, from the repository
 * root, against the bundled simulator and temporary stores (placeholders: `<id>` becomes a session
 * the earlier commands made, the example ports 4321 and 3000 free ones), or is listed below with
 * the reason it is not run. A documented command that stops working fails this file.
 */
type Handling =
  /** `once`: shown in several places, run the first time only (it takes minutes). */
  | { readonly kind: "run"; readonly exitCode?: number; readonly prints?: RegExp; readonly once?: boolean }
  /** Started and left running until its block ends (a server); `needsSimulator`: a `sim` on 4321 first. */
  | { readonly kind: "background"; readonly ready: RegExp; readonly needsSimulator?: boolean }
  /** Runs until its output matches, then is stopped (a stream that never ends by itself). */
  | { readonly kind: "stream"; readonly until: RegExp }
  | { readonly kind: "not run"; readonly reason: string; readonly check?: () => void };

const rootScript = (name: string) => () => {
  const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  expect(scripts[name], `root script ${name}`).toBeDefined();
};

/** Commands other than `./cloudsession …` (run with exit 0 unless listed), each with how it is run or why not. */
const handlings: Readonly<Record<string, Handling>> = {
  // The demo on the default embedded store; its closing lines must spell the CLI the way that works.
  "npm start": { kind: "run", once: true, prints: new RegExp(`look at them again[\\s\\S]*  \\./cloudsession show [0-9a-f-]{36}\\n`) },
  "npm test": { kind: "not run", reason: "runs every test, this file included (it would run itself); .ci/run runs it on every change", check: rootScript("test") },
  "export CLOUDSESSION_STORE=postgres://cloudsession:…@db.internal:5432/app": {
    kind: "not run",
    reason: "not runnable offline: a PostgreSQL server of your own (db.internal); the commands after it run here on the embedded store, and the PostgreSQL adapter has its own tests against a local server",
  },
  "COPILOT_RUNTIME_URL=127.0.0.1:4321 PORT=3000 npm --prefix examples/service start": { kind: "background", ready: /listening on http:\/\// },
  "COPILOT_RUNTIME_URL=127.0.0.1:4321 pnpm --filter @cloudsession/example-service start": { kind: "background", ready: /listening on http:\/\//, needsSimulator: true },
  "curl -s -X POST localhost:3000/sessions -H 'content-type: application/json' -d '{\"repository\":{\"owner\":\"octo\",\"name\":\"demo\"},\"prompts\":[\"Summarise the README\"]}'": { kind: "run" },
  "curl -N localhost:3000/sessions/<id>/events": { kind: "stream", until: /session\.requested/ },
  "npm run bench": { kind: "not run", reason: "a full benchmark run: many minutes of CPU and a PostgreSQL, on purpose; the same entry point runs in --quick mode in packages/bench/test/bench.quick.test.ts", check: rootScript("bench") },
  "npm run bench -- --quick": { kind: "not run", reason: "the benchmarks' --quick mode is run by packages/bench/test/bench.quick.test.ts (a test of its own, minutes of CPU)", check: rootScript("bench") },
  "npm run bench -- --only recovery,manySessions": { kind: "not run", reason: "benchmarks (minutes of CPU, recovery needs PostgreSQL); their --quick mode is tested in packages/bench", check: rootScript("bench") },
  // Mutation testing (docs/contributing.md): tens of minutes of CPU per package, by design not part of npm test.
  "pnpm mutate": { kind: "not run", reason: "mutation testing of rx, machine and engine: tens of minutes of CPU (docs/contributing.md)", check: rootScript("mutate") },
  "pnpm mutate --package rx": { kind: "not run", reason: "mutation testing: minutes of CPU (docs/contributing.md)", check: rootScript("mutate") },
  "pnpm mutate --package machine --mutate packages/machine/src/settings.ts": { kind: "not run", reason: "mutation testing: minutes of CPU (docs/contributing.md)", check: rootScript("mutate") },
  "pnpm mutate --package machine --force": { kind: "not run", reason: "mutation testing: tens of minutes of CPU (docs/contributing.md)", check: rootScript("mutate") },
  "npx vitest run --project @cloudsession/fidelity": { kind: "not run", reason: "a test project of its own: npm test runs it" },
  "pnpm exec vitest run --project @cloudsession/dashboard": { kind: "not run", reason: "a test project of its own: npm test runs it (browser tests included, when Chromium is installed)" },
  "pnpm --filter @cloudsession/dashboard screenshots": { kind: "not run", reason: "rewrites the committed docs/images/dashboard-*.png; needs Chromium, and packages/dashboard's browser tests drive the same page" },
  // Exposing the service (examples/service/README.md): a public host with TLS in front, on every interface.
  'export CLOUDSESSION_API_TOKENS="$(openssl rand -hex 32)"': { kind: "not run", reason: "only sets the token for the two lines after it, which are not run here" },
  "HOST=0.0.0.0 CLOUDSESSION_ALLOWED_HOSTS=api.example.com pnpm --filter @cloudsession/example-service start": {
    kind: "not run",
    reason: "binds every network interface (tests bind 127.0.0.1 only); the tokens, Host and Origin checks it turns on are tested over loopback in examples/service/test",
  },
  'curl -H "Authorization: Bearer $CLOUDSESSION_API_TOKENS" https://api.example.com/sessions/<id>': { kind: "not run", reason: "not runnable offline: a public host name with TLS in front of the service (api.example.com)" },
};

const cliCommand = /^\.\/cloudsession(\s|$)/;
/** The CLI spelled any other way than the one that works from a clone for every user. */
const otherSpelling = /^((pnpm|npx|pnpm exec) )?cloudsession\s+\S/;

/** How a documented command is run, or undefined when it is neither a `./cloudsession` command nor listed. */
function handlingFor(command: string): Handling | undefined {
  const bare = command.replace(/\s*&$/, "");
  const listed = handlings[bare];
  if (listed !== undefined) return command.endsWith("&") && listed.kind === "run" ? { kind: "background", ready: /./ } : listed;
  if (cliCommand.test(bare) && /^\.\/cloudsession sim\b/.test(bare)) return { kind: "background", ready: /listening on port \d+/ };
  // The dashboard serves until Ctrl-C: started, and left running until its block ends.
  if (cliCommand.test(bare) && /^\.\/cloudsession ui\b/.test(bare)) return { kind: "background", ready: /dashboard http:\/\/|"type":"dashboard"/ };
  if (cliCommand.test(bare)) return { kind: "run" };
  return undefined;
}

function handlingOf(command: string): Handling {
  const handling = handlingFor(command);
  if (handling === undefined) throw new Error(`no handling for the documented command (run it here, or list it with the reason it is not run): ${command}`);
  return handling;
}

// ---- static checks -------------------------------------------------------------------------------

const files = documentedFiles(root);
const documents = files.map((file) => parseDocument(root, file));
const blocks: ShellBlock[] = documents.flatMap((document) => document.blocks);

/** The CLI's commands and their long options, from the program itself. */
function cliVocabulary(): { commands: Map<string, Set<string>>; globals: Set<string> } {
  const sink = new PassThrough() as unknown as NodeJS.WriteStream;
  const program: Command = createProgram({ stdout: sink, stderr: sink, env: {} }, createTerminal(sink, sink, {}), { code: 0 });
  const longs = (command: Command) => new Set(command.options.map((option) => option.long ?? "").concat("--help"));
  return { commands: new Map(program.commands.map((command) => [command.name(), longs(command)])), globals: longs(program) };
}

/** What is wrong with `./cloudsession …` as shown (an unknown command or option), or undefined. */
function cliUsageProblem(text: string, vocabulary: ReturnType<typeof cliVocabulary>): string | undefined {
  const words = text.split(/\s+/).slice(1);
  const name = words.find((word) => !word.startsWith("-"));
  const options = vocabulary.commands.get(name ?? "");
  if (name !== undefined && options === undefined) return `unknown command "${name}"`;
  for (const word of words) {
    const flag = /^\[?(--[a-z-]+)/.exec(word)?.[1];
    if (flag !== undefined && !vocabulary.globals.has(flag) && !(options?.has(flag) ?? false)) return `unknown option ${flag}${name === undefined ? "" : ` of ${name}`}`;
  }
  return undefined;
}

describe("the documented commands, checked without running them", () => {
  test("every fenced block says what it is (sh for commands), so no command hides in an untagged block", () => {
    expect(documents.flatMap((document) => document.untagged.map((block) => `${block.file}:${block.line}`))).toEqual([]);
  });

  test("the CLI is spelled ./cloudsession everywhere (a bare or pnpm cloudsession fails for a non-root user)", () => {
    const found = [
      ...documents.flatMap((document) => document.spans.filter((span) => otherSpelling.test(span.text)).map((span) => `${span.file}:${span.line}: \`${span.text}\``)),
      ...blocks.flatMap((block) => block.commands.filter((command) => otherSpelling.test(command)).map((command) => `${block.file}:${block.line}: ${command}`)),
    ];
    expect(found).toEqual([]);
  });

  test("every ./cloudsession shown, in prose or in a block, names a real command and real options", () => {
    const vocabulary = cliVocabulary();
    const shown = [
      ...documents.flatMap((document) => document.spans.filter((span) => cliCommand.test(span.text)).map((span) => ({ where: `${span.file}:${span.line}`, text: span.text }))),
      ...blocks.flatMap((block) => block.commands.filter((command) => cliCommand.test(command)).map((text) => ({ where: `${block.file}:${block.line}`, text }))),
    ];
    expect(shown.length).toBeGreaterThan(20);
    expect(shown.flatMap(({ where, text }) => {
      const problem = cliUsageProblem(text, vocabulary);
      return problem === undefined ? [] : [`${where}: ${text}: ${problem}`];
    })).toEqual([]);
  });

  test("every other command is run or listed with the reason it is not, and every listed one is still shown", () => {
    const commands = blocks.flatMap((block) => block.commands);
    const unhandled = commands.filter((command) => handlingFor(command) === undefined);
    expect(unhandled).toEqual([]);
    const shown = new Set(commands.map((command) => command.replace(/\s*&$/, "")));
    expect(Object.keys(handlings).filter((command) => !shown.has(command))).toEqual([]);
    for (const handling of Object.values(handlings)) if (handling.kind === "not run") handling.check?.();
  });
});

// ---- running them ----------------------------------------------------------------------------------

const scratch = tempDir("cloudsession-docs-");
afterAll(() => scratch.remove());
const env = cliEnv({
  // The default embedded store (what `npm start` and the commands after it use) lives here.
  XDG_DATA_HOME: join(scratch.path, "data"),
  CLOUDSESSION_DATA_DIR: join(scratch.path, "service"),
  PATH: `${join(root, ".tools", "node_modules", ".bin")}:${process.env["PATH"] ?? ""}`,
});

const uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** Where an output names one of our sessions (not an SDK session or a Mission Control task). */
const sessionMentions = [new RegExp(`"(?:session|id)":"(${uuid})"`, "g"), new RegExp(`^session (${uuid}) ·`, "gm"), new RegExp(`^(${uuid})  `, "gm"), new RegExp(`(?:show|replay) (${uuid})`, "g")];
let lastSession: string | undefined;
const ranOnce = new Set<string>();

function noteSessions(output: string): void {
  let best: { index: number; id: string } | undefined;
  for (const pattern of sessionMentions) {
    for (const match of output.matchAll(pattern)) if (best === undefined || match.index > best.index) best = { index: match.index, id: match[1] ?? "" };
  }
  if (best !== undefined) lastSession = best.id;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address !== null ? address.port : 0;
}

interface Started {
  readonly child: ChildProcess;
  /** stdout and stderr as they came. */
  output(): string;
  stdout(): string;
  readonly exited: Promise<number | null>;
}

function start(command: string): Started {
  // Its own process group, so what it starts (npm's child, tsx) is stopped with it.
  const child = spawn("sh", ["-c", command], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    text += chunk.toString("utf8");
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  return { child, output: () => text, stdout: () => stdout, exited: new Promise((resolve) => child.once("close", (code) => resolve(code))) };
}

async function until(started: Started, pattern: RegExp, what: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (!pattern.test(started.output())) {
    if (started.child.exitCode !== null || Date.now() > deadline) throw new Error(`${what}: never printed ${String(pattern)}:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(started: Started): Promise<void> {
  const pid = started.child.pid;
  if (pid === undefined || started.child.exitCode !== null) return;
  process.kill(-pid, "SIGINT");
  const gone = await Promise.race([started.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000))]);
  if (!gone) process.kill(-pid, "SIGKILL");
  await started.exited;
}

async function runBlock(block: ShellBlock): Promise<void> {
  const ports = new Map([["4321", String(await freePort())], ["3000", String(await freePort())], ["8080", String(await freePort())]]);
  const substitute = (command: string): string => {
    let text = command.replace(/\s*&$/, "").replace(/\b(4321|3000|8080)\b/g, (port) => ports.get(port) ?? port);
    if (text.includes("<id>")) {
      if (lastSession === undefined) throw new Error(`${block.file}:${block.line}: no session for <id> yet`);
      text = text.replaceAll("<id>", lastSession);
    }
    return text;
  };
  const background: Started[] = [];
  try {
    for (const command of block.commands) {
      const handling = handlingOf(command);
      if (handling.kind === "not run") continue;
      if (handling.kind === "background") {
        if (handling.needsSimulator === true) {
          const sim = start(substitute("./cloudsession sim --port 4321"));
          background.push(sim);
          await until(sim, /listening on port \d+/, "the simulator the command needs");
        }
        const server = start(substitute(command));
        background.push(server);
        await until(server, handling.ready, command);
        continue;
      }
      if (handling.kind === "run" && handling.once === true) {
        if (ranOnce.has(command)) continue;
        ranOnce.add(command);
      }
      const started = start(substitute(command));
      if (handling.kind === "stream") {
        await until(started, handling.until, command);
        await stop(started);
        continue;
      }
      const timer = setTimeout(() => void stop(started), 240_000);
      const code = await started.exited;
      clearTimeout(timer);
      const output = started.output();
      expect(code, `${block.file}:${block.line}: ${command}\n${output}`).toBe(handling.exitCode ?? 0);
      if (handling.prints !== undefined) expect(output).toMatch(handling.prints);
      // `--json` output, as documented: NDJSON, every line of stdout a JSON object, nothing else.
      if (command.includes("--json")) {
        const records = parseNdjson(started.stdout());
        expect(records.length).toBeGreaterThan(0);
        if (command.includes(" run ")) expect(records.at(-1)).toMatchObject({ type: "outcome", exitCode: 0 });
      }
      noteSessions(output);
    }
  } finally {
    for (const started of background.reverse()) await stop(started);
  }
}

describe("every documented shell command, run as written", () => {
  // Blocks whose commands are all listed as not run have nothing to run (the static checks above cover them).
  // A command with no handling makes its block's test fail (and the static check above name it).
  for (const block of blocks.filter((candidate) => candidate.commands.some((command) => handlingFor(command)?.kind !== "not run"))) {
    test(`${block.file}:${block.line}: ${block.commands.join(" ; ")}`, () => runBlock(block), 600_000);
  }
});
