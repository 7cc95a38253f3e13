import type { AddressInfo } from 'node:net';
import { simpleParser, ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createSmtpMailer, Mailer } from '../../notifications/mailer';

// A real SMTP server in the test process: the platform's mailer speaks SMTP to it through nodemailer, and
// each message is parsed back, attachments included, as a mail client would.

export interface SmtpCatcher {
  url: string;
  messages: ParsedMail[];
  mailer: Mailer;
  close(): Promise<void>;
}

export async function startSmtpCatcher(): Promise<SmtpCatcher> {
  const messages: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const url = `smtp://127.0.0.1:${port}`;
  return {
    url,
    messages,
    mailer: createSmtpMailer({ url, from: 'Billing <billing@test.example>' }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
