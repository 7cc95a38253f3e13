export { chargingSession } from './charging-session/workflow';
export { exemption } from './exemption/workflow';
export { invoiceClose } from './invoice-close/workflow';
