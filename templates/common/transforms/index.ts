/**
 * The transforms this project uses: qmtl's (`rateOfChange`, `stochastic`, `angle`, each a class
 * and a node factory) and your own. A stateless transform of one bar is a `ProcessingNode` whose
 * compute function reads its inputs from the view; every number it depends on goes in `params`.
 */
export * from 'qmtl/transforms';
