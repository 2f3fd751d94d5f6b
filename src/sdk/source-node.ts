import { ErrorCode, QmtlError } from '../common/errors.js';
import { Node, type NodeOptions, type Params } from './node.js';

/** A node with no upstream: the start of a DAG (SPEC §3.1). */
export class SourceNode<P extends Params = Params> extends Node<P> {
  static override readonly nodeType: string = 'SourceNode';

  constructor(options: Omit<NodeOptions<P>, 'input'> = {}) {
    if ((options as NodeOptions<P>).input != null) {
      throw new QmtlError(ErrorCode.InvalidNode, `${new.target.nodeType}: a source node takes no input`);
    }
    super(options);
  }
}
