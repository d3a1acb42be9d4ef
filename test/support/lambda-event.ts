/** An API Gateway HTTP API (payload 2.0) event, as the Lambda adapter receives one. */
import type { LambdaEvent } from 'hono/aws-lambda';

export function httpApiEvent(
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
): LambdaEvent {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', ...headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      authentication: null,
      authorizer: {},
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'radius-front' },
      requestId: 'req-1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '27/Nov/2026:19:00:00 +0000',
      timeEpoch: 1795806000000,
    },
    body: body ?? null,
    isBase64Encoded: false,
  };
}
