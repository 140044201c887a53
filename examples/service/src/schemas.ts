import { Type, type Static } from "typebox";

// The engine checks GitHub's naming rules again; the schema gives a client the first, clear 400.

// #region schemas
// A prompt's size is checked in UTF-8 bytes by the engine (413 PROMPT_TOO_LARGE), not here in characters.
const text = () => Type.String({ minLength: 1, pattern: "\\S" });
// Ids: no control characters (NUL included): they end up in logs, headers and SQL text parameters.
const idCharacters = "[^\\u0000-\\u001f\\u007f-\\u009f]";

/** `POST /sessions`. Types are never coerced: `"prompts": [1]` is a 400, not the prompt "1". */
export const StartSessionBody = Type.Object(
  {
    repository: Type.Object(
      {
        owner: Type.String({ minLength: 1, maxLength: 39 }),
        name: Type.String({ minLength: 1, maxLength: 100 }),
        branch: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
      },
      { additionalProperties: false },
    ),
    prompts: Type.Array(text(), { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);
export type StartSessionBody = Static<typeof StartSessionBody>;

/**
 * `POST /sessions/:id/prompts`. `id`, when given, names the prompt for idempotent retries: a POST
 * whose `id` the session already has adds nothing. Not blank, no control characters, at most 200.
 */
export const SendPromptBody = Type.Object(
  {
    prompt: text(),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: `^(?=[\\s\\S]*\\S)${idCharacters}+$` })),
  },
  { additionalProperties: false },
);
export type SendPromptBody = Static<typeof SendPromptBody>;

/** `:id` in every session route: no control characters (NUL included), at most 200 characters. */
export const SessionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200, pattern: `^${idCharacters}+$` }) });
export type SessionParams = Static<typeof SessionParams>;
// #endregion schemas
