/** `HttpTransport` over the runtime's `fetch`: redirects are not followed, and bodies are read up to a cap. */
import {
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  HttpTransportError,
} from '../../core/channels/http.ts';

export class FetchHttpTransport implements HttpTransport {
  constructor(
    private readonly options: {
      /** The most of a response body that is read; a provider's answer is small. */
      maxBodyBytes?: number;
      fetch?: typeof fetch;
    } = {},
  ) {}

  async send(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    const doFetch = this.options.fetch ?? fetch;
    try {
      const response = await doFetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined && { body: request.body }),
        signal,
        // A redirect could carry the message and credentials to a host the tenant never configured.
        redirect: 'manual',
      });
      const body = await readCapped(response, this.options.maxBodyBytes ?? 64 * 1024);
      return { status: response.status, headers: Object.fromEntries(response.headers), body };
    } catch (cause) {
      if (signal.aborted) {
        const timedOut = (signal.reason as Error | undefined)?.name === 'TimeoutError';
        throw new HttpTransportError(timedOut ? 'timeout' : 'aborted', 'The request was cut off.', { cause });
      }
      throw new HttpTransportError('network', 'The provider could not be reached.', { cause });
    }
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < maxBytes) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes));
}
