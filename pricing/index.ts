export * from './currency';
export * from './money';
export * from './tariff';
export * from './rate';
