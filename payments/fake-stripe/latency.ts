// How long the fake takes to answer an API call, so a benchmark or a test can see what a real provider's
// round trip does to the platform (Stripe answers a PaymentIntent call in roughly 100-300 ms). The fake acts
// at once and holds the reply back, like a slow network between Stripe and us; the test-only /_fake routes
// always answer at once.

/** Every API reply waits a uniformly random time in [min, max] milliseconds; a number is a fixed time. */
export interface LatencyRange {
  min: number;
  max: number;
}

export type LatencyOption = LatencyRange | number;

/** Checked and normalised; a RangeError names what is wrong. */
export function latencyRange(option: LatencyOption | undefined): LatencyRange {
  if (option === undefined) return { min: 0, max: 0 };
  const range = typeof option === 'number' ? { min: option, max: option } : option;
  if (typeof range !== 'object' || range === null) {
    throw new RangeError(`latencyMs must be a number or { min, max }, got ${String(option)}`);
  }
  const { min, max } = range;
  for (const [name, value] of [
    ['min', min],
    ['max', max],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `latencyMs.${name} must be a finite number of milliseconds >= 0, got ${String(value)}`,
      );
    }
  }
  if (min > max) throw new RangeError(`latencyMs.min (${min}) must not be above latencyMs.max (${max})`);
  return { min, max };
}

/** One reply's latency, drawn from the range. */
export function drawLatency(range: LatencyRange, random: () => number = Math.random): number {
  return range.min + (range.max - range.min) * random();
}
