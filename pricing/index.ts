export * from './currency';
export * from './money';
export * from './tariff';
export * from './model';
export * from './session-price';
