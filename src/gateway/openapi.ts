/** The Gateway's HTTP API as an OpenAPI 3.1 document, served at `GET /docs` (SPEC §2.5). */
export function gatewayOpenApi(version: string): Record<string, unknown> {
  const json = (schema: Record<string, unknown>) => ({ content: { 'application/json': { schema } } });
  const error = (description: string) => ({ description, ...json({ $ref: '#/components/schemas/Error' }) });
  const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
  const tagQuery = [
    { name: 'tags', in: 'query', required: true, schema: { type: 'string' }, description: 'comma-separated' },
    {
      name: 'interval',
      in: 'query',
      required: true,
      schema: { type: 'string' },
      description: 'seconds or 1m/1h/1d',
    },
    { name: 'match_mode', in: 'query', schema: { type: 'string', enum: ['any', 'all'], default: 'any' } },
  ];
  const mutating = { security: [{ bearer: [] }, {}] };
  return {
    openapi: '3.1.0',
    info: {
      title: 'qmtl Gateway',
      version,
      description:
        'Strategy submissions, their lifecycle, tag queries and DAG Manager callbacks. Events on GET /ws.',
    },
    paths: {
      '/strategies': {
        post: {
          summary: 'Submit a strategy DAG',
          ...mutating,
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/StrategySubmit' }) },
          responses: {
            202: {
              description: 'accepted; carries the diff when it is ready',
              ...json({ $ref: '#/components/schemas/StrategyAck' }),
            },
            400: error('node_ids_crc32 does not match the node ids'),
            401: error('missing or invalid bearer token (when JWT auth is on)'),
            409: error('the same DAG is active; strategy_id names it'),
            413: error('body larger than the limit'),
            422: error('invalid body or DAG; every problem listed'),
            503: error('degraded (MINIMAL) or storage unavailable'),
          },
        },
      },
      '/strategies/{id}/status': {
        get: {
          summary: 'Status of a strategy',
          parameters: idParam,
          responses: {
            200: json({ type: 'object', properties: { status: { type: 'string' } } }),
            404: error('unknown id'),
          },
        },
      },
      '/strategies/{id}': {
        get: {
          summary: 'A strategy with its diff and event log',
          parameters: idParam,
          responses: { 200: { description: 'the strategy' }, 404: error('unknown id') },
        },
        delete: {
          summary: 'Stop a strategy',
          ...mutating,
          parameters: idParam,
          responses: {
            200: { description: 'stopped' },
            404: error('unknown id'),
            409: error('already stopped'),
          },
        },
      },
      '/strategies/{id}/stop': {
        post: {
          summary: 'Stop a strategy (alias of DELETE)',
          ...mutating,
          parameters: idParam,
          responses: { 200: { description: 'stopped' }, 404: error('unknown id') },
        },
      },
      '/strategies/{id}/heartbeat': {
        post: {
          summary: 'Renew the producer lease of a strategy to now + lease_ms',
          description:
            'A strategy that heartbeats once holds a lease; when it expires the Gateway stops the strategy, releasing the nodes it produces (a queue_update with reason "producer_released" on /ws). Strategies that never heartbeat never expire.',
          ...mutating,
          parameters: idParam,
          responses: {
            200: json({ $ref: '#/components/schemas/Heartbeat' }),
            404: error('unknown id'),
            409: error('the strategy is stopped or failed'),
            503: error('the state store is unavailable'),
          },
        },
      },
      '/strategies/{id}/claim': {
        post: {
          summary: 'Produce every node of the strategy DAG that no active strategy produces',
          description:
            'Runs the DAG Manager diff of the stored DAG again; nodes without an active producer move from queue_map to topic_map. Same shape as the 202 of POST /strategies.',
          ...mutating,
          parameters: idParam,
          responses: {
            200: json({ $ref: '#/components/schemas/StrategyAck' }),
            404: error('unknown id'),
            409: error('the strategy is not active (completed)'),
            503: error('the DAG Manager is unavailable'),
          },
        },
      },
      '/queues/by_tag': {
        get: {
          summary: 'Topics matching a tag query',
          parameters: tagQuery,
          responses: {
            200: json({
              type: 'object',
              properties: { queues: { type: 'array', items: { type: 'string' } } },
            }),
            422: error('bad query'),
          },
        },
      },
      '/queues/watch': {
        get: {
          summary: 'NDJSON stream of {queues} on every change',
          parameters: tagQuery,
          responses: { 200: { description: 'application/x-ndjson' } },
        },
      },
      '/callbacks/dag-event': {
        post: {
          summary: 'CloudEvent from the DAG Manager (queue_update, sentinel_weight, gc)',
          ...mutating,
          responses: { 202: { description: 'accepted' }, 422: error('malformed event') },
        },
      },
      '/status': {
        get: {
          summary: 'Health and degradation level',
          responses: { 200: { description: '{status, redis, postgres, dag_manager, degrade_level}' } },
        },
      },
      '/health': {
        get: {
          summary: 'Health (alias of /status without degrade_level)',
          responses: { 200: { description: 'ok' } },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text/plain' } } },
      },
      '/docs': {
        get: { summary: 'This OpenAPI document', responses: { 200: { description: 'OpenAPI 3.1 JSON' } } },
      },
      '/ws': {
        get: {
          summary: 'WebSocket of CloudEvents; send {"subscribe": {types, strategy_ids, tags}} to filter',
          responses: { 101: { description: 'switching protocols' } },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        StrategySubmit: {
          type: 'object',
          required: ['dag_json', 'run_type', 'node_ids_crc32'],
          properties: {
            dag_json: { type: 'string', description: 'base64 of the DAG JSON (raw JSON also accepted)' },
            meta: { type: ['object', 'null'] },
            run_type: { type: 'string', enum: ['backtest', 'dry-run', 'live'] },
            node_ids_crc32: { type: 'integer', minimum: 0, maximum: 4294967295 },
          },
        },
        StrategyAck: {
          type: 'object',
          properties: {
            strategy_id: { type: 'string' },
            queue_map: {
              type: 'object',
              additionalProperties: {
                oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
              },
            },
            topic_map: { type: 'object', additionalProperties: { type: 'string' } },
            sentinel_id: { type: ['string', 'null'] },
            status: { type: 'string', enum: ['queued', 'processing', 'completed', 'failed', 'stopped'] },
          },
        },
        Heartbeat: {
          type: 'object',
          properties: {
            strategy_id: { type: 'string' },
            status: { type: 'string', enum: ['queued', 'processing', 'completed'] },
            lease_ms: { type: 'integer', minimum: 1 },
          },
        },
        Error: {
          type: 'object',
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            problems: { type: 'array', items: { type: 'object' } },
            detail: {},
          },
        },
      },
    },
  };
}
