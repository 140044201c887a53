/**
 * A seeded pseudo-random source. Every random choice the simulator makes (latency jitter,
 * chunk sizes, ids) goes through one of these, so the same seed replays the same run.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** A float in [min, max). */
  between(min: number, max: number): number;
  /** A UUID-v4-shaped string drawn from this source (not cryptographically random). */
  uuid(): string;
}

/**
 * Creates a mulberry32 generator: tiny, fast and good enough for test jitter.
 *
 * @example
 * ```ts
 * const a = createRng(42);
 * const b = createRng(42);
 * a.uuid() === b.uuid(); // true
 * ```
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    between: (min, max) => min + next() * (max - min),
    uuid: () => {
      let hex = "";
      for (let i = 0; i < 4; i++) {
        hex += Math.floor(next() * 4294967296)
          .toString(16)
          .padStart(8, "0");
      }
      // Set the version (4) and variant (10xx) nibbles so the id looks like any other uuid.
      const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    },
  };
}

/**
 * Derives an independent seed for a child stream (e.g. one per session), so that one session's
 * draws never shift another's, whatever the interleaving of their timers.
 */
export function deriveSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
