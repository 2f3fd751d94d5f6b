import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { Node, type NodeOptions, type Params } from './node.js';

/** Options of a {@link ProcessingNode}: `input` is required. */
export type ProcessingNodeOptions<P extends Params = Params> = NodeOptions<P> & {
  readonly input: Node | readonly Node[];
};

/**
 * A node that computes from one or more upstream nodes (SPEC §3.1).
 *
 * @example
 * const spread = new ProcessingNode({
 *   name: 'spread',
 *   input: [btc, eth],
 *   params: { scale: 100 },
 *   computeFn: (view) => (view.input(0).latest()! - view.input(1).latest()!) * view.params.scale,
 * });
 */
export class ProcessingNode<P extends Params = Params> extends Node<P> {
  static override readonly nodeType: string = 'ProcessingNode';

  constructor(options: ProcessingNodeOptions<P>) {
    super(options);
    if (this.inputs.length === 0) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${this.nodeType}${options.name ? ` ${quote(options.name)}` : ''}: needs at least one input node, got ${quote(options.input)}`,
      );
    }
  }
}
