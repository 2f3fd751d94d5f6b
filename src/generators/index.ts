/**
 * Seeded, reproducible synthetic markets: a portable random number generator, a GARCH(1,1)
 * OHLCV bar generator and a history provider that serves its bars.
 */
export { SeededRandom } from './random.js';
export type { OhlcvBar } from './ohlcv-bar.js';
export { GARCH_DEFAULTS, type GarchOptions, type ResolvedGarchOptions } from './garch-options.js';
export { GarchGenerator } from './garch.js';
export {
  GarchHistoryProvider,
  type GarchHistoryProviderOptions,
  type GarchHistoryRow,
} from './garch-history-provider.js';
