// A module resolve hook: workspace packages resolve to their TypeScript sources (the
// `@cloudsession/source` export condition), as `--conditions=@cloudsession/source` would do.
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, "@cloudsession/source"] });
}
