/** The HTTP port web providers call through. The adapter is `adapters/http/fetch-transport.ts`. */

export type HttpMethod = 'GET' | 'POST' | 'PUT';

export interface HttpRequest {
  url: URL;
  method: HttpMethod;
  headers: Record<string, string>;
  body?: string;
  /**
   * Lets the request reach loopback and private addresses (the local stack's stand-ins). Absent, the transport
   * refuses any address that is not public, after DNS and at connect.
   */
  allowPrivateNetworks?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as text, cut at the transport's size limit. */
  body: string;
}

export type HttpFailureKind = 'timeout' | 'aborted' | 'network' | 'private_address';

export class HttpTransportError extends Error {
  constructor(
    readonly kind: HttpFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpTransportError';
  }
}

export interface HttpTransport {
  /** Throws `HttpTransportError` when no HTTP answer came; any status code is an answer. */
  send(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse>;
}
