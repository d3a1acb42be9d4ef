/** E-mail over real SMTP to an in-process smtp-server on 127.0.0.1; SES's request shape through the SDK stack. */
import type { AddressInfo } from 'node:net';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import nodemailer from 'nodemailer';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { SesMailTransport } from '../../../functions/adapters/mail/ses-transport.ts';
import { SmtpMailTransport } from '../../../functions/adapters/mail/smtp-transport.ts';
import type { DeliveryRequest } from '../../../functions/core/channels/channel.ts';
import { EmailChannel } from '../../../functions/core/channels/email.ts';

interface Received {
  mailFrom: string;
  rcptTo: string[];
  headers: Map<string, string>;
  body: string;
}

/** Enough MIME for what nodemailer writes: encoded-word subjects, quoted-printable or base64 bodies. */
function parseMail(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const decodeWords = (v: string) =>
    v.replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_m, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(
            data
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
  for (const [k, v] of headers) headers.set(k, decodeWords(v));
  let body = raw.slice(split + 4).replace(/\r\n$/, '');
  const cte = headers.get('content-transfer-encoding')?.toLowerCase();
  if (cte === 'base64') body = Buffer.from(body, 'base64').toString('utf8');
  if (cte === 'quoted-printable')
    body = Buffer.from(
      body
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  return { headers, body };
}

const servers: SMTPServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function smtpPeer(options: SMTPServerOptions = {}) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          ...parseMail(Buffer.concat(chunks).toString('latin1')),
        });
        callback();
      });
    },
    ...options,
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { received, port };
}

const channelFor = (
  port: number,
  extra: { auth?: { user: string; pass: string }; timeoutMs?: number } = {},
) =>
  new EmailChannel(
    new SmtpMailTransport(
      nodemailer.createTransport({
        host: '127.0.0.1',
        port,
        secure: false,
        ignoreTLS: true,
        ...(extra.auth && { auth: extra.auth }),
      }),
    ),
    {
      from: '"Acme login" <no-reply@acme.example>',
      subject: 'Your Acme login code',
      ...(extra.timeoutMs && { timeoutMs: extra.timeoutMs }),
    },
  );

const request = (over: Partial<DeliveryRequest> = {}): DeliveryRequest => ({
  tenantId: 'tenant-a',
  challengeId: 'challenge-1',
  step: 2,
  to: 'alice@corp.example.test',
  text: 'Your login code is 419283. Login from 203.0.113.7, vpn-gw-1. Gyldig i 5 minutter: æøå.',
  ...over,
});

describe('the e-mail channel over SMTP', () => {
  it('delivers the text to the right recipient, and nobody else', async () => {
    const { received, port } = await smtpPeer();
    const outcome = await channelFor(port).deliver(request());
    expect(outcome).toMatchObject({
      status: 'sent',
      providerMessageId: expect.stringMatching(/^<.+@acme\.example>$/),
    });
    expect(received).toHaveLength(1);
    const mail = received[0]!;
    expect(mail.rcptTo).toEqual(['alice@corp.example.test']);
    expect(mail.mailFrom).toBe('no-reply@acme.example');
    expect(mail.headers.get('to')).toBe('alice@corp.example.test');
    expect(mail.headers.get('subject')).toBe('Your Acme login code');
    expect(mail.body).toBe(request().text);
  });

  it('takes the subject from the request, on one line', async () => {
    const { received, port } = await smtpPeer();
    await channelFor(port).deliver(request({ subject: 'Login code\r\nBcc: mallory@evil.example' }));
    expect(received[0]!.headers.get('subject')).toBe('Login code Bcc: mallory@evil.example');
    expect(received[0]!.headers.has('bcc')).toBe(false);
    expect(received[0]!.rcptTo).toEqual(['alice@corp.example.test']);
  });

  it('refuses a malformed address without contacting the server', async () => {
    const { received, port } = await smtpPeer();
    for (const to of ['alice', 'alice@corp.example.test, mallory@evil.example', 'a b@c.d', '<x@y.z>'])
      expect(await channelFor(port).deliver(request({ to }))).toMatchObject({
        failure: 'permanent',
        reason: 'invalid_address',
      });
    expect(received).toHaveLength(0);
  });

  it('classifies the server’s answers: 5xx permanent, 4xx temporary, bad login config', async () => {
    const refusing = await smtpPeer({
      onRcptTo(address, _s, cb) {
        const error = Object.assign(new Error('no'), {
          responseCode: address.address.startsWith('full') ? 452 : 550,
        });
        cb(error);
      },
    });
    expect(await channelFor(refusing.port).deliver(request())).toMatchObject({
      failure: 'permanent',
      reason: 'mail_refused',
    });
    expect(await channelFor(refusing.port).deliver(request({ to: 'full@corp.example.test' }))).toMatchObject({
      failure: 'temporary',
      reason: 'mail_deferred',
    });

    const authed = await smtpPeer({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _s, cb) {
        if (auth.username === 'acme' && auth.password === 'right') cb(null, { user: 'acme' });
        else cb(Object.assign(new Error('bad login'), { responseCode: 535 }));
      },
    });
    expect(
      await channelFor(authed.port, { auth: { user: 'acme', pass: 'wrong' } }).deliver(request()),
    ).toMatchObject({
      failure: 'config',
      reason: 'mail_auth',
    });
    expect(
      await channelFor(authed.port, { auth: { user: 'acme', pass: 'right' } }).deliver(request()),
    ).toMatchObject({
      status: 'sent',
    });
  });

  it('gives up on a server that stalls, and on one that is not there, as temporary', async () => {
    const stalling = await smtpPeer({
      onData(stream) {
        stream.resume(); // reads the message but never answers it
      },
    });
    expect(await channelFor(stalling.port, { timeoutMs: 300 }).deliver(request())).toMatchObject({
      failure: 'temporary',
      reason: 'mail_timeout',
    });

    const gone = await smtpPeer();
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    expect(await channelFor(gone.port).deliver(request())).toMatchObject({
      failure: 'temporary',
      reason: 'mail_unreachable',
    });
  });
});

describe('the SES mail transport', () => {
  function sesStandIn(answer: { status: number; body: unknown; type?: string }) {
    const client = new SESv2Client({
      region: 'eu-west-1',
      // Refusals are classified on the first answer; the SDK's retries would only slow the test.
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's' },
    });
    const seen: Array<{ method: string; path: string; body: unknown }> = [];
    client.middlewareStack.add(
      (_next) => async (args) => {
        const req = args.request as { method: string; path: string; body: string };
        seen.push({ method: req.method, path: req.path, body: JSON.parse(req.body) });
        return {
          response: {
            statusCode: answer.status,
            headers: {
              'content-type': 'application/json',
              ...(answer.type && { 'x-amzn-errortype': answer.type }),
            },
            body: new TextEncoder().encode(JSON.stringify(answer.body)),
          },
        } as never;
      },
      { step: 'deserialize', priority: 'low', name: 'inProcessSes' },
    );
    return { client, seen };
  }

  it('sends one SendEmail with the text, subject and recipient, and returns the message id', async () => {
    const { client, seen } = sesStandIn({ status: 200, body: { MessageId: 'ses-0001' } });
    const channel = new EmailChannel(new SesMailTransport(client, { configurationSetName: 'logins' }), {
      from: 'no-reply@acme.example',
    });
    expect(await channel.deliver(request())).toEqual({ status: 'sent', providerMessageId: 'ses-0001' });
    expect(seen).toEqual([
      {
        method: 'POST',
        path: '/v2/email/outbound-emails',
        body: {
          FromEmailAddress: 'no-reply@acme.example',
          Destination: { ToAddresses: ['alice@corp.example.test'] },
          Content: {
            Simple: {
              Subject: { Data: 'Your login code', Charset: 'UTF-8' },
              Body: { Text: { Data: request().text, Charset: 'UTF-8' } },
            },
          },
          ConfigurationSetName: 'logins',
        },
      },
    ]);
  });

  it('classifies SES refusals', async () => {
    const send = (type: string, status: number) =>
      new EmailChannel(new SesMailTransport(sesStandIn({ status, type, body: { message: 'x' } }).client), {
        from: 'no-reply@acme.example',
      }).deliver(request());
    expect(await send('MessageRejected', 400)).toMatchObject({
      failure: 'permanent',
      reason: 'mail_refused',
    });
    expect(await send('MailFromDomainNotVerifiedException', 400)).toMatchObject({ failure: 'config' });
    expect(await send('TooManyRequestsException', 429)).toMatchObject({ failure: 'temporary' });
  });
});
