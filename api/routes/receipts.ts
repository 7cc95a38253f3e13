import type { Router } from 'express';
import { findReceiptBySession } from '../../db/repositories/receipts';
import { getSessionView } from '../../db/repositories/sessionViews';
import { renderPdf } from '../../documents/pdf';
import { organizationOf } from '../auth';
import type { ResolvedDeps } from '../deps';
import { sendPdf } from '../json';
import { ApiError, resourceMissing } from '../errors';

// A receipt as a PDF, rendered from its stored lines each time: a receipt never changes, so neither does
// its document.
export function registerReceiptRoutes(router: Router, deps: ResolvedDeps): void {
  router.get('/sessions/:id/receipt/download', async (req, res) => {
    const org = organizationOf(res);
    const id = String(req.params.id);
    const view = await getSessionView(deps.db, org.id, id);
    if (!view) throw resourceMissing('session', id);
    const billed = await findReceiptBySession(deps.db, id);
    if (!billed)
      throw new ApiError(
        409,
        'invalid_request_error',
        'session_not_billed',
        `Session ${id} has no receipt yet.`,
      );
    const { receipt, lines } = billed;
    const driver = view.session.user_id
      ? await deps.db('users').where({ id: view.session.user_id }).first('name', 'email')
      : undefined;
    const site = await deps
      .db('charge_points as cp')
      .join('sites', 'sites.id', 'cp.site_id')
      .where('cp.id', view.session.charge_point_id)
      .first('sites.name', 'sites.time_zone');
    const pdf = await renderPdf({
      kind: 'receipt',
      number: receipt.number,
      issuedAt: receipt.issued_at,
      timeZone: site?.time_zone ?? org.timeZone,
      currency: receipt.currency,
      seller: deps.seller ?? { name: org.name, address: [] },
      buyer: {
        name: driver?.name ?? driver?.email ?? `Id tag ${view.session.id_tag}`,
        address: [],
        email: driver?.email,
      },
      references: [
        { label: 'Session', value: id },
        {
          label: 'Charge point',
          value: `${view.session.charge_point_identity}${site ? ` at ${site.name}` : ''}`,
        },
      ],
      lines: lines.map((l) => ({
        description: l.description,
        quantity: `${Number(l.quantity)} ${l.unit}`,
        amountExclVat: l.amount,
        vatRate: l.vat_rate ?? '0',
        vatAmount: l.vat_amount,
      })),
      notes: [
        `Paid: ${receipt.amount_paid} ${receipt.currency}. Due: ${receipt.amount_due} ${receipt.currency}.`,
      ],
    });
    sendPdf(res, receipt.number, pdf);
  });
}
