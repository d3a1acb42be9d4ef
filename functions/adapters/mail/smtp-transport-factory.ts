/** Builds one pooled nodemailer transport per SMTP server a tenant uses, and reuses it while the process is warm. */
import nodemailer from 'nodemailer';
import type { MailTransport } from '../../core/channels/email.ts';
import type { SmtpSettings } from '../../core/channels/mail-params.ts';
import { SmtpMailTransport } from './smtp-transport.ts';

export interface SmtpTransports {
  (settings: SmtpSettings): MailTransport;
  /** Closes every pooled connection (on shutdown, and in tests). */
  close(): void;
}

export function pooledSmtpTransports(options: { maxConnections?: number } = {}): SmtpTransports {
  const byServer = new Map<string, MailTransport>();
  const transporters: Array<{ close(): void }> = [];
  const transportFor = (settings: SmtpSettings): MailTransport => {
    const key = JSON.stringify([
      settings.host,
      settings.port,
      settings.security,
      settings.username,
      settings.password,
    ]);
    let transport = byServer.get(key);
    if (!transport) {
      const transporter = nodemailer.createTransport({
        pool: true,
        maxConnections: options.maxConnections ?? 2,
        host: settings.host,
        port: settings.port,
        secure: settings.security === 'tls',
        requireTLS: settings.security === 'starttls',
        ignoreTLS: settings.security === 'none',
        ...(settings.username && { auth: { user: settings.username, pass: settings.password ?? '' } }),
      });
      transporters.push(transporter);
      transport = new SmtpMailTransport(transporter);
      byServer.set(key, transport);
    }
    return transport;
  };
  return Object.assign(transportFor, {
    close: () => {
      for (const t of transporters.splice(0)) t.close();
      byServer.clear();
    },
  });
}
