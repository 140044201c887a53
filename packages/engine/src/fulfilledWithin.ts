/**
 * True when `work` fulfils within `ms` of real time; false when it rejects or is still running
 * then. Never rejects; the timer does not hold the process open. For bounded waits on a runtime
 * that may never answer (a shutdown, a send on the wire).
 */
export async function fulfilledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}
