import { Type, type Static } from "typebox";

// The engine checks GitHub's naming rules again; the schema gives a client the first, clear 400.
const text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: "\\S" });

// #region schemas
/** `POST /sessions`. */
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
    prompts: Type.Array(text(100_000), { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);
export type StartSessionBody = Static<typeof StartSessionBody>;

/** `POST /sessions/:id/prompts`. */
export const SendPromptBody = Type.Object({ prompt: text(100_000) }, { additionalProperties: false });
export type SendPromptBody = Static<typeof SendPromptBody>;
// #endregion schemas

export const SessionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
export type SessionParams = Static<typeof SessionParams>;
