import type { ServiceDefinition } from '@grpc/grpc-js';
import { ErrorCode, QmtlError } from '../common/errors.js';

/** Marks a request whose bytes did not decode (see {@link decodingLeniently}). */
const MALFORMED = Symbol('malformed request');

interface MalformedRequest {
  readonly [MALFORMED]: string;
}

/**
 * The service definition with decoders that never throw: a request whose bytes are not its
 * message (a field of the wrong wire type, garbage) decodes to a marker instead, which
 * {@link malformedRequestError} turns into `INVALID_ARGUMENT` naming the message. grpc-js would
 * answer such a request with `INTERNAL: Error deserializing request`, a server fault.
 */
export function decodingLeniently(service: ServiceDefinition): ServiceDefinition {
  const lenient: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    lenient[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          const marker: MalformedRequest = {
            [MALFORMED]: `${method.path} request is not a valid protobuf message of its type (field numbers as in proto/dagmanager.proto): ${(error as Error).message}`,
          };
          return marker;
        }
      },
    };
  }
  return lenient as ServiceDefinition;
}

/** The error for a request that did not decode, or null for a decoded one. */
export function malformedRequestError(request: unknown): QmtlError | null {
  if (typeof request !== 'object' || request === null || !(MALFORMED in request)) return null;
  return new QmtlError(ErrorCode.InvalidArgument, (request as MalformedRequest)[MALFORMED]);
}
