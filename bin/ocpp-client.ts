import { RPCClient } from 'ocpp-rpc';

type RpcOptions = ConstructorParameters<typeof RPCClient>[0];

export interface ChargePointClient {
  call<T = Record<string, unknown>>(action: string, payload: object): Promise<T>;
  close(): Promise<void>;
}

/** A strict OCPP 1.6J client (ocpp-rpc validates every frame both ways), as a real charge point would be. */
export async function connectChargePoint(opts: {
  endpoint: string;
  identity: string;
  password?: string;
}): Promise<ChargePointClient> {
  const client = new RPCClient({
    endpoint: opts.endpoint,
    identity: opts.identity,
    password: opts.password,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: false,
  } as RpcOptions);
  await client.connect();
  return {
    call: async <T>(action: string, payload: object) => (await client.call(action, payload)) as T,
    close: async () => {
      await client.close();
    },
  };
}
