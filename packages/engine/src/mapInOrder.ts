/**
 * Runs `work` over `items` with at most `limit` calls in flight and hands each result to `use` in
 * input order, as soon as it and every earlier result are in. Resolves once every result was used.
 * A pipeline whose next stage must see the items in order (a fair line) but need not wait for the
 * last item of the first stage.
 *
 * @example
 * const seen: number[] = [];
 * await mapInOrder([30, 10, 20], 3, (ms) => new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms)), (ms) => seen.push(ms));
 * seen; // [30, 10, 20]: 10 and 20 wait for 30, and are used the moment it is in
 */
export async function mapInOrder<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>, use: (result: R, index: number) => void): Promise<void> {
  const done = new Array<boolean>(items.length).fill(false);
  const results = new Array<R | undefined>(items.length);
  let next = 0;
  let used = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
      done[index] = true;
      while (used < items.length && done[used] === true) {
        const result = results[used] as R;
        results[used] = undefined; // used once: let it go
        use(result, used++);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
