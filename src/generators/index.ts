/**
 * Seeded, reproducible synthetic markets: a portable random number generator, GARCH(1,1),
 * Heston and rough Bergomi OHLCV bar generators, a history provider that serves any of them, and
 * StreamInput factories that put each on a bar grid for backtests.
 */
export { SeededRandom } from './random.js';
export { SECONDS_PER_YEAR, yearsOf } from './year-fraction.js';
export { takeBars, type BarGenerator, type OhlcvBar } from './ohlcv-bar.js';
export { GARCH_DEFAULTS, type GarchOptions, type ResolvedGarchOptions } from './garch-options.js';
export { GarchGenerator } from './garch.js';
export { HESTON_DEFAULTS, type HestonOptions, type ResolvedHestonOptions } from './heston-options.js';
export { HestonGenerator } from './heston.js';
export {
  ROUGH_BERGOMI_DEFAULTS,
  type ResolvedRoughBergomiOptions,
  type RoughBergomiOptions,
} from './rough-bergomi-options.js';
export { RoughBergomiGenerator } from './rough-bergomi.js';
export {
  GeneratedHistoryProvider,
  type BarPlacement,
  type GeneratedHistoryProviderOptions,
  type GeneratedRow,
} from './generated-history-provider.js';
export {
  GarchHistoryProvider,
  type GarchHistoryProviderOptions,
  type GarchHistoryRow,
} from './garch-history-provider.js';
export {
  garchInput,
  hestonInput,
  roughBergomiInput,
  type GarchInputOptions,
  type GeneratorInputOptions,
  type HestonInputOptions,
  type RoughBergomiInputOptions,
} from './generator-inputs.js';
