/**
 * Seconds in the year that turns a bar interval into the time step of a continuous-time model:
 * 365 days of 24 hours (calendar time, ACT/365 fixed). Markets that trade around the clock, like
 * crypto, match it; for an exchange calendar scale the annual parameters instead (e.g. a
 * 252-trading-day volatility σ becomes σ·√(252/365)).
 */
export const SECONDS_PER_YEAR = 365 * 24 * 3600;

/** The length of `seconds` in years of {@link SECONDS_PER_YEAR}. */
export function yearsOf(seconds: number): number {
  return seconds / SECONDS_PER_YEAR;
}
