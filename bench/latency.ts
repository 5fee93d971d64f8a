import { build } from 'hdr-histogram-js';

/** Percentiles of one latency, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Microsecond samples into an HDR histogram (3 significant digits), read out in ms. */
export function summarise(samplesUs: readonly number[]): LatencySummary | undefined {
  if (samplesUs.length === 0) return undefined;
  const histogram = build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
  for (const sample of samplesUs) histogram.recordValue(sample);
  const ms = (us: number) => us / 1000;
  const summary: LatencySummary = {
    count: histogram.totalCount,
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
  };
  histogram.destroy();
  return summary;
}
