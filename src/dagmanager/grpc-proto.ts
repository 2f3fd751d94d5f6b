import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** `proto/dagmanager.proto` of this package (the same path from src/ and from dist/). */
export const DAGMANAGER_PROTO_PATH = fileURLToPath(new URL('../../proto/dagmanager.proto', import.meta.url));

/** The `qmtl.dagmanager` package: service definitions and client constructors. */
export interface DagManagerProto {
  readonly DiffService: ServiceClientConstructor;
  readonly TagQuery: ServiceClientConstructor;
  readonly AdminService: ServiceClientConstructor;
  readonly HealthCheck: ServiceClientConstructor;
}

let loaded: DagManagerProto | null = null;

/**
 * Loads the proto once. Fields keep their snake_case names; int64 arrive as JS numbers;
 * defaults are filled in (so an absent `resume_after_chunk` is 0).
 */
export function dagManagerProto(): DagManagerProto {
  if (loaded !== null) return loaded;
  const definition = loadSync(DAGMANAGER_PROTO_PATH, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const root = loadPackageDefinition(definition);
  loaded = (root['qmtl'] as GrpcObject)['dagmanager'] as unknown as DagManagerProto;
  return loaded;
}
