import express, { ErrorRequestHandler, RequestHandler } from 'express';
import { logger as defaultLogger, Logger } from '../config/logger';
import { authenticate } from './auth';
import type { AppDeps, ResolvedDeps } from './deps';
import { ApiError, internalError } from './errors';
import { registerAllowanceRoutes } from './routes/allowances';
import { registerBillingRuleRoutes } from './routes/billingRules';
import { registerChargePointCommandRoutes } from './routes/chargePointCommands';
import { registerChargePointRoutes } from './routes/chargePoints';
import { registerExemptionRoutes } from './routes/exemptions';
import { registerInvoiceRoutes } from './routes/invoices';
import { registerReceiptRoutes } from './routes/receipts';
import { registerReconciliationRoutes } from './routes/reconciliations';
import { registerMemberRoutes } from './routes/members';
import { registerOrganizationRoutes } from './routes/organizations';
import { registerOrphanSessionRoutes } from './routes/orphanSessions';
import { registerPaymentRoutes } from './routes/payments';
import { registerPromotionRoutes } from './routes/promotions';
import { registerProviderWebhookRoutes } from './routes/provider-webhooks';
import { registerEventRoutes } from './routes/events';
import { registerWebhookEndpointRoutes } from './routes/webhook-endpoints';
import { registerQuoteRoutes } from './routes/quotes';
import { registerRevenueSharingRoutes } from './routes/revenue-sharing';
import { registerSessionRoutes } from './routes/sessions';
import { registerSiteRoutes } from './routes/sites';
import { registerTariffRoutes } from './routes/tariffs';
import { registerUserRoutes } from './routes/users';
import { registerWalletRoutes } from './routes/wallets';

export type { AppDeps } from './deps';

export const API_PREFIX = '/api/v1/billing';
const BODY_LIMIT = '100kb';

/** Errors thrown by body-parser and the router carry an HTTP status and a `type`, e.g. entity.parse.failed. */
interface HttpError {
  status: number;
  type?: string;
  expose?: boolean;
}

function isClientHttpError(err: unknown): err is HttpError {
  if (typeof err !== 'object' || err === null) return false;
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (!isClientHttpError(err)) return undefined;
  switch (err.type) {
    case 'entity.parse.failed':
      return new ApiError(
        400,
        'invalid_request_error',
        'json_invalid',
        'The request body is not valid JSON.',
        'body',
      );
    case 'entity.too.large':
      return new ApiError(
        413,
        'invalid_request_error',
        'body_too_large',
        `The request body exceeds ${BODY_LIMIT}.`,
        'body',
      );
    default:
      return new ApiError(
        err.status,
        'invalid_request_error',
        'request_invalid',
        'The request could not be read.',
      );
  }
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    let apiError = toApiError(err);
    if (!apiError) {
      // The stack goes to the log only; the client gets a generic message that leaks nothing.
      log.error('unhandled error', { method: req.method, path: req.path, err, stack: (err as Error)?.stack });
      apiError = internalError();
    }
    res.status(apiError.status).set(apiError.headers).json(apiError.toBody());
  };
}

function accessLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      log.info('http request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms),
      });
    });
    next();
  };
}

export function createApp(deps: AppDeps): express.Express {
  const resolved: ResolvedDeps = {
    db: deps.db,
    runningCost: deps.runningCost,
    log: deps.log ?? defaultLogger.child({ component: 'api' }),
    chargePoints: deps.chargePoints,
    commandTimeoutMs: deps.commandTimeoutMs,
    runningCostTimeoutMs: deps.runningCostTimeoutMs ?? 2000,
    exemptions: deps.exemptions,
    seller: deps.seller,
    invoices: deps.invoices,
    payouts: deps.payouts,
    reconciliations: deps.reconciliations,
    schedules: deps.schedules,
    webhooks: deps.webhooks,
    providerRecords: deps.providerRecords,
    payments: deps.payments,
    sessions: deps.sessions,
    preAuthorizations: deps.preAuthorizations,
  };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(accessLog(resolved.log));

  registerProviderWebhookRoutes(app, API_PREFIX, resolved);
  app.use(API_PREFIX, apiRouter(resolved));

  app.use((req) => {
    throw new ApiError(
      404,
      'invalid_request_error',
      'route_unknown',
      `Unrecognized request URL (${req.method} ${req.path}).`,
    );
  });
  app.use(errorHandler(resolved.log));
  return app;
}

/** Every route of the API, behind authentication; each one checks the caller's role first (handler.ts). */
export function apiRouter(resolved: ResolvedDeps): express.Router {
  const api = express.Router();
  // Authenticate before parsing: no work is spent on the bodies of anonymous requests.
  api.use(authenticate(resolved.db));
  api.use(express.json({ limit: BODY_LIMIT }));
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  registerTariffRoutes(api, resolved);
  registerSiteRoutes(api, resolved);
  registerChargePointRoutes(api, resolved);
  registerUserRoutes(api, resolved);
  registerSessionRoutes(api, resolved);
  registerPromotionRoutes(api, resolved);
  registerAllowanceRoutes(api, resolved);
  registerBillingRuleRoutes(api, resolved);
  registerQuoteRoutes(api, resolved);
  registerOrganizationRoutes(api, resolved);
  registerMemberRoutes(api, resolved);
  registerExemptionRoutes(api, resolved);
  registerInvoiceRoutes(api, resolved);
  registerRevenueSharingRoutes(api, resolved);
  registerReceiptRoutes(api, resolved);
  registerWebhookEndpointRoutes(api, resolved);
  registerEventRoutes(api, resolved);
  registerPaymentRoutes(api, resolved);
  registerWalletRoutes(api, resolved);
  registerReconciliationRoutes(api, resolved);
  registerChargePointCommandRoutes(api, resolved);
  registerOrphanSessionRoutes(api, resolved);
  return api;
}
