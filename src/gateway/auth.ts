import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, QmtlError } from '../common/errors.js';

/** Bearer-JWT settings: HS256 tokens signed with `secret`, optionally checked for audience and issuer. */
export interface JwtAuthOptions {
  readonly secret: string;
  readonly audience?: string | null;
  readonly issuer?: string | null;
}

const BEARER = /^\s*bearer\s+(\S.*?)\s*$/i;

/**
 * A Fastify hook that requires `Authorization: Bearer <JWT>` (SPEC §4 security): a missing,
 * malformed, expired or wrongly signed token, or a wrong audience/issuer, is a 401 with a
 * `WWW-Authenticate` header. Tokens are never logged.
 */
export function bearerJwt(
  options: JwtAuthOptions,
): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const key = new TextEncoder().encode(options.secret);
  const joseModule = import('jose');
  return async (request, reply) => {
    // The scheme is case-insensitive (RFC 7235 §2.1): `bearer x` is as valid as `Bearer x`.
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (token === '') return deny(reply, 'a bearer token is required');
    const { jwtVerify } = await joseModule;
    try {
      await jwtVerify(token, key, {
        algorithms: ['HS256'],
        ...(options.audience ? { audience: options.audience } : {}),
        ...(options.issuer ? { issuer: options.issuer } : {}),
      });
    } catch (error) {
      return deny(reply, `invalid bearer token: ${(error as { code?: string }).code ?? 'rejected'}`);
    }
    return undefined;
  };
}

function deny(reply: FastifyReply, message: string): FastifyReply {
  const error = new QmtlError(ErrorCode.Unauthorized, message);
  return reply
    .status(401)
    .header('www-authenticate', 'Bearer')
    .send({ code: error.code, message, detail: message });
}
