import type { Knex } from 'knex';
import nodemailer from 'nodemailer';

// E-mail over SMTP. Locally the platform's mail catcher takes it (npm start runs MailDev, with a web inbox);
// in production the operator's relay. Every message carries a key derived from business ids: a retried
// activity that already sent it does not send it again. A crash between the SMTP answer and the record can
// still send twice (SMTP has no idempotency); a duplicate e-mail is the lesser harm than a lost one.

export interface Attachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

export interface OutgoingMail {
  /** E.g. `exemption:exm_...:approved`. */
  key: string;
  organizationId?: string;
  to: string | string[];
  subject: string;
  text: string;
  attachments?: Attachment[];
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
}

export function createSmtpMailer(opts: { url: string; from: string }): Mailer {
  const transport = nodemailer.createTransport(opts.url);
  return {
    async send(mail) {
      const info = await transport.sendMail({
        from: opts.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        attachments: mail.attachments,
        headers: { 'X-Billing-Key': mail.key },
      });
      return { messageId: info.messageId };
    },
  };
}

/** Sends unless a message with the same key was sent before; true when it sent now. */
export async function sendOnce(db: Knex, mailer: Mailer, mail: OutgoingMail): Promise<boolean> {
  if (await db('sent_emails').where({ key: mail.key }).first('key')) return false;
  const { messageId } = await mailer.send(mail);
  await db('sent_emails')
    .insert({
      key: mail.key,
      organization_id: mail.organizationId ?? null,
      to: [mail.to].flat().join(', '),
      subject: mail.subject,
      message_id: messageId,
    })
    .onConflict('key')
    .ignore();
  return true;
}
