export { chargingSession } from './charging-session/workflow';
