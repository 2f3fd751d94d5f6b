import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server recording JSON POSTs; `statuses` scripts the answers (then 202). */
export interface HttpSink {
  readonly url: string;
  readonly received: { path: string; body: unknown; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

export async function startHttpSink(statuses: number[] = []): Promise<HttpSink> {
  const received: HttpSink['received'] = [];
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        body: text === '' ? null : (JSON.parse(text) as unknown),
        headers: request.headers,
      });
      response.statusCode = statuses.shift() ?? 202;
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
