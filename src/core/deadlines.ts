// Times at which this process must be awake: a timer that has to fire on time (a pipeline's time
// limit, a trailing record save) says so here, and a wait that blocks the thread (turn/waker.ts)
// ends its block by the earliest. Times are on performance.now()'s clock, which a change of the wall
// clock does not move, as a timer's.

const _due = new Set<{ at: number }>();

/** Be awake at `at` (performance.now() ms); returns the function that takes it back. */
export function wakeAt(at: number): () => void {
  const entry = { at };
  _due.add(entry);
  return () => _due.delete(entry);
}

/** The earliest time still asked for, or undefined. */
export function nextWake(): number | undefined {
  let earliest: number | undefined;
  for (const { at } of _due) if (earliest === undefined || at < earliest) earliest = at;
  return earliest;
}
