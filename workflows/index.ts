export { chargingSession } from './charging-session/workflow';
export { exemption } from './exemption/workflow';
