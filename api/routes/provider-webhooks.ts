import express, { type Express } from 'express';
import { applyProviderEvent } from '../../db/repositories/providerEvents';
import { type ProviderRefund, WebhookSignatureError } from '../../payments/provider-records';
import type { ResolvedDeps } from '../deps';
import { ApiError } from '../errors';

// The payment provider calls this, not a member: it is authenticated by the signature over the raw body,
// so it is mounted before the API's key check and JSON parser. A bad signature is 400 and changes nothing;
// an event we do not act on is 200 so the provider stops sending it; a failure on our side is 500 so the
// provider delivers it again.

export const STRIPE_WEBHOOK_PATH = '/providers/stripe/webhook';

export function registerProviderWebhookRoutes(app: Express, prefix: string, deps: ResolvedDeps): void {
  app.post(
    `${prefix}${STRIPE_WEBHOOK_PATH}`,
    express.raw({ type: () => true, limit: '1mb' }),
    async (req, res) => {
      const records = deps.providerRecords;
      if (!records) {
        throw new ApiError(
          503,
          'api_error',
          'provider_webhooks_unavailable',
          'Provider webhooks are not configured here.',
        );
      }
      const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let event;
      try {
        event = records.verifyWebhook(raw, req.get('stripe-signature'));
      } catch (err) {
        const message =
          err instanceof WebhookSignatureError ? err.message : `unreadable event: ${(err as Error).message}`;
        throw new ApiError(
          400,
          'invalid_request_error',
          err instanceof WebhookSignatureError ? 'signature_invalid' : 'event_invalid',
          message,
        );
      }
      const refunds: ProviderRefund[] = [];
      if (event.kind === 'charge.refunded' && event.refunds.length === 0) {
        for await (const r of records.listRefunds({ paymentId: event.paymentId })) refunds.push(r);
      }
      const outcome = await applyProviderEvent(deps.db, event, refunds);
      deps.log.info('provider event', { id: event.eventId, type: event.providerType, outcome });
      res.status(200).json({ received: true, id: event.eventId, outcome });
    },
  );
}
