export function drawOrder(seedHex: string, tickets: readonly number[]): number[];
