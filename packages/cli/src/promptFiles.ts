import { defaultEngineLimits } from "@cloudsession/engine";
import { open } from "node:fs/promises";
import { CliError } from "./cliError.js";

/** Where `--prompt-file -` reads from. */
export type PromptInput = NodeJS.ReadableStream;

/**
 * Reading stops past this many bytes: the engine refuses a prompt over `maxPromptBytes` anyway,
 * and an endless pipe must not fill memory first. The margin keeps a byte-order mark and the first
 * byte over the limit, so the engine (not this reader) judges every file up to one byte over.
 */
const readCap = defaultEngineLimits.maxPromptBytes + 4;

/**
 * The prompts of `--prompt-file` paths, in order: each file whole, as UTF-8 (a byte-order mark
 * dropped), `-` for `input`. The text is not trimmed: its size is the file's.
 *
 * @throws CliError `PROMPT_FILE_UNREADABLE` (missing, unreadable, a directory, not UTF-8, `-` twice),
 *   `MISSING_PROMPT` (an empty file), `PROMPT_TOO_LARGE` (far over the limit: not read to its end)
 * @example
 * const prompts = await readPromptFiles(["brief.md"], process.stdin, "cloudsession");
 */
export async function readPromptFiles(paths: readonly string[], input: PromptInput, command: string): Promise<string[]> {
  if (paths.filter((path) => path === "-").length > 1) {
    throw new CliError("PROMPT_FILE_UNREADABLE", "--prompt-file - is given more than once: standard input holds one prompt", { hint: fileHint(command) });
  }
  const prompts: string[] = [];
  for (const path of paths) {
    const name = path === "-" ? "standard input" : `prompt file ${path}`;
    const bytes = path === "-" ? await readStream(input, name) : await readPath(path, command);
    const text = decode(bytes, name, command);
    if (text.trim() === "") throw new CliError("MISSING_PROMPT", `${name} is empty: each prompt file holds one non-empty prompt`, { hint: fileHint(command) });
    prompts.push(text);
  }
  return prompts;
}

function fileHint(command: string): string {
  return `--prompt-file takes a UTF-8 text file holding one prompt (repeat it for more), or - for standard input, e.g. ${command} run --repo octo/demo --prompt-file brief.md`;
}

async function readPath(path: string, command: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new CliError("PROMPT_FILE_UNREADABLE", `cannot read prompt file ${path}: ${reasonOf(error)}`, { hint: fileHint(command), cause: error });
  }
  try {
    return await readStream(handle.createReadStream({ autoClose: false }), `prompt file ${path}`);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError("PROMPT_FILE_UNREADABLE", `cannot read prompt file ${path}: ${reasonOf(error)}`, { hint: fileHint(command), cause: error });
  } finally {
    await handle.close();
  }
}

/** Reads a stream to its end, or refuses once it is past {@link readCap}. */
async function readStream(stream: NodeJS.ReadableStream, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    size += buffer.length;
    if (size > readCap) {
      const limit = defaultEngineLimits.maxPromptBytes;
      throw new CliError("PROMPT_TOO_LARGE", `${name} is over the limit of ${limit} bytes (limits.maxPromptBytes): more than ${readCap} bytes, not read to its end`, { hint: "shorten the prompt, or split it into several prompts" });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}

function decode(bytes: Buffer, name: string, command: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new CliError("PROMPT_FILE_UNREADABLE", `${name} is not UTF-8 text`, { hint: fileHint(command), cause: error });
  }
}

/** The short reason behind a file-system error (`ENOENT` reads "no such file"). */
function reasonOf(error: unknown): string {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
