import { fileURLToPath } from 'node:url';

/**
 * The project templates of `qmtl init --strategy` (SPEC §7), each with the one-line description
 * `qmtl init --list-templates` prints. Every one backtests on the sample data as generated.
 */
export const TEMPLATES = {
  general: 'a price stream, a breakout signal over a 20-bar window and an order node trading it',
  single_indicator: 'a price stream and its 10-bar EMA',
  multi_indicator: 'EMA 5, EMA 20 and RSI 14 of one stream, combined into one signal',
  branching: 'one stream feeding momentum and volatility nodes, joined into a risk-adjusted score',
  state_machine: 'a trend state machine (an indicator of your own that keeps its state) and its changes',
} as const;

/** The name of one of the {@link TEMPLATES}. */
export type TemplateName = keyof typeof TEMPLATES;

/** The template names, in the order they are listed. */
export const TEMPLATE_NAMES = Object.keys(TEMPLATES) as TemplateName[];

/** The template of `qmtl init` without `--strategy`. */
export const DEFAULT_TEMPLATE: TemplateName = 'general';

/** Whether `name` names a template. */
export function isTemplateName(name: string): name is TemplateName {
  return Object.hasOwn(TEMPLATES, name);
}

/**
 * The directory of the template files: `templates/` of the package, two levels above this module
 * in `src/scaffold/` and in the built `dist/scaffold/` alike. `common/` holds the files every
 * project gets; `<template>/` its `strategy.ts` and any file it adds or replaces.
 */
export function templatesDirectory(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url));
}
