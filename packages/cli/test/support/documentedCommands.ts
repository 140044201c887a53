import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** A fenced code block of a document. */
export interface FencedBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly body: readonly string[];
}

/** A shell block's commands, in order: continuation lines joined, comments and blank lines dropped. */
export interface ShellBlock extends FencedBlock {
  readonly commands: readonly string[];
}

/** An inline code span outside fenced blocks. */
export interface InlineSpan {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** The languages whose blocks are commands to run. */
export const shellLanguages: ReadonlySet<string> = new Set(["sh", "bash", "shell", "console"]);

/** README.md, docs/*.md (not the ADRs: records of decisions, not instructions) and every package's README. */
export function documentedFiles(root: string): string[] {
  const docs = readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => join(root, "docs", name));
  const packages = ["packages", "examples"].flatMap((dir) =>
    readdirSync(join(root, dir), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(root, dir, entry.name, "README.md"))
      .filter((file) => {
        try {
          readFileSync(file);
          return true;
        } catch {
          return false;
        }
      }),
  );
  return [join(root, "README.md"), ...docs.sort(), ...packages.sort()].map((file) => relative(root, file));
}

/** Removes a trailing `# comment` that is outside quotes. */
export function withoutComment(command: string): string {
  let quote: string | undefined;
  for (let index = 0; index < command.length; index++) {
    const char = command[index];
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === "#" && (index === 0 || /\s/.test(command[index - 1] ?? ""))) {
      return command.slice(0, index).trimEnd();
    }
  }
  return command.trimEnd();
}

/** Splits one document into its fenced blocks and its inline code spans. */
export function parseDocument(root: string, file: string): { blocks: ShellBlock[]; untagged: FencedBlock[]; spans: InlineSpan[] } {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const blocks: ShellBlock[] = [];
  const untagged: FencedBlock[] = [];
  const spans: InlineSpan[] = [];
  let open: { line: number; lang: string; body: string[] } | undefined;
  lines.forEach((text, index) => {
    const fence = /^\s*```(\S*)\s*$/.exec(text);
    if (open === undefined && fence) {
      open = { line: index + 1, lang: fence[1] ?? "", body: [] };
      return;
    }
    if (open !== undefined) {
      if (/^\s*```\s*$/.test(text)) {
        const block = { file, line: open.line, lang: open.lang, body: open.body };
        if (block.lang === "") untagged.push(block);
        else if (shellLanguages.has(block.lang)) blocks.push({ ...block, commands: commandsOf(block.body) });
        open = undefined;
      } else {
        open.body.push(text);
      }
      return;
    }
    for (const match of text.matchAll(/`([^`]+)`/g)) spans.push({ file, line: index + 1, text: match[1] ?? "" });
  });
  return { blocks, untagged, spans };
}

function commandsOf(body: readonly string[]): string[] {
  const commands: string[] = [];
  let pending = "";
  for (const raw of body) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trimEnd()} `;
      continue;
    }
    commands.push(withoutComment(pending + line));
    pending = "";
  }
  return commands;
}
