export { chargingSession } from './charging-session/workflow';
export { exemption } from './exemption/workflow';
export { invoiceClose } from './invoice-close/workflow';
export { allowanceReset } from './allowance-reset/workflow';
export { monthlyBilling } from './monthly-billing/workflow';
export { payout } from './payout/workflow';
export { dailyReconciliation, reconciliation } from './reconciliation/workflow';
export { webhookEndpoint } from './webhook-endpoint/workflow';
export { holdSweep } from './hold-sweep/workflow';
